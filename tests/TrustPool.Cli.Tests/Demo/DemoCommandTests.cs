using System.Text.RegularExpressions;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests.Demo;

/// <summary>
/// `trustpool demo` runs the real service in-process and tells the whole story over its HTTPS API: enrollment, baselines,
/// pools, attestation, placements, traits, a tampered host caught with the PCR and the event, the evacuation plan.
/// </summary>
public class DemoCommandTests
{
    private static readonly string s_dll = Path.Combine(AppContext.BaseDirectory, "trustpool.dll");

    [Fact]
    public void Demo_Default_SixHostsTamperedOneCaughtAndEvacuated()
    {
        // No NO_COLOR, a colour terminal type: plain text must come from stdout being redirected alone.
        var r = ProcessRunner.Run("dotnet", [s_dll, "demo"], new Dictionary<string, string> { ["TERM"] = "xterm-256color" }, timeout: TimeSpan.FromSeconds(180));
        Assert.True(r.ExitCode == 0, r.ToString());
        var o = r.StdOut;
        Assert.DoesNotContain("\u001b[", o, StringComparison.Ordinal);
        Assert.Contains("the TPM backend is a simulator", o, StringComparison.Ordinal);
        Assert.Matches(@"attestation service at https://127\.0\.0\.1:\d+ ", o);

        var enrolled = Regex.Matches(o, @"host-(\d\d) .*demo vendor CA \(EK trust ca\).* enrolled").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(6, enrolled.Count);

        // Attestation table: every host trusted (FR hosts in any-trusted only), then the tampered host untrusted.
        var trusted = Regex.Matches(o, @"host-(\d\d) +. trusted +. (eu-trusted, )?any-trusted").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(trusted.Count == 6, o);
        var caught = Regex.Match(o, @"UNTRUSTED (host-\d\d): PCR\[0\] sha256 expected [0-9a-f]{8}\.\. got [0-9a-f]{8}\.\.; first differing event #2 EV_EFI_PLATFORM_FIRMWARE_BLOB");
        Assert.True(caught.Success, o);
        var victim = caught.Groups[1].Value;
        Assert.Contains($"demo complete in ", o, StringComparison.Ordinal);
        Assert.Matches($@"demo complete in \d+\.\d s: 5 trusted, 1 untrusted \({victim}\)", o);

        // The evacuation plan moves the victim's workloads to other hosts; the country=DE ones stay in Germany
        // (every third host, host-03 and host-06, is in France).
        var evacuations = Regex.Matches(o, $@"(payments-[a-z0-9-]+|ledger|ci-runner) +. {victim} +. (host-\d\d) ");
        Assert.True(evacuations.Count > 0, o);
        foreach (Match e in evacuations)
        {
            Assert.NotEqual(victim, e.Groups[2].Value);
            if (e.Groups[1].Value != "ci-runner")
            {
                Assert.DoesNotContain(e.Groups[2].Value, (string[])["host-03", "host-06"]);
            }
        }

        Assert.Matches(@"enroll a TPM whose EK certificate is from an unknown vendor CA: refused", o);
        Assert.Matches(@"POST /v1/reports/verify: invalid", o);

        // The audit step: the whole log verified offline, then the compliance report of a workload that ran on the
        // victim shows the gap that began with the tampered report.
        var audit = Regex.Match(o, @"audit log verified: (\d+) records, \d+ signed checkpoint\(s\); every leaf rebuilt, the root matches the signed checkpoint of size (\d+)");
        Assert.True(audit.Success, o);
        Assert.Equal(audit.Groups[1].Value, audit.Groups[2].Value);
        Assert.Matches(@"records: 1 token\.created, 6 host\.enrolled, \d+ baseline\.changed, \d+ pool\.changed, \d+ report\.issued, 6 host\.inventory-changed, 6 placement\.made, 1 evacuation\.planned; checked offline", o);
        var compliance = Regex.Match(o, $@"compliance report of ([a-z0-9-]+) \(GET /v1/audit/compliance\): placed on {victim} at \S+ relying on report \S+ \(trusted: [^)]+\); (\d+) report\(s\) cover it");
        Assert.True(compliance.Success, o);
        Assert.Contains(compliance.Groups[1].Value, evacuations.Select(e => e.Groups[1].Value));
        Assert.Matches(@"gap: not trusted from \S+ to \S+ \(report says untrusted\)", o);
        Assert.Matches(@"\d+ inclusion proofs verified against the signed checkpoint of size \d+", o);
    }

    [Fact]
    public void Demo_OneHost_Exit2()
    {
        var r = Cli.Run("demo", "--hosts", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--hosts", r.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("300")]
    public void Demo_ReattestOutOfRange_Exit2(string seconds)
    {
        var r = Cli.Run("demo", "--keep", "--reattest", seconds);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--reattest", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_NonLoopbackUrls_Exit2()
    {
        var r = Cli.Run("demo", "--urls", "https://0.0.0.0:0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("loopback", r.StdErr, StringComparison.Ordinal);
    }
}
