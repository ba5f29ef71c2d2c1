namespace TrustPool.Cli.Tests.Demo;

/// <summary>`trustpool demo` tells the whole story and exits 0: boot chain, enrollment, attestation, attacks, tamper caught.</summary>
public class DemoCommandTests
{
    [Fact]
    public void Demo_Default_TamperedHostUntrustedWithPcrAndEvent()
    {
        var r = Cli.RunIn(null, TimeSpan.FromSeconds(120), "demo");
        Assert.True(r.ExitCode == 0, r.ToString());
        var o = string.Join(' ', r.StdOut.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
        Assert.Contains("EV_EFI_PLATFORM_FIRMWARE_BLOB", o, StringComparison.Ordinal);
        Assert.Matches(@"3 agents \(software TPMs\) listening on https://127\.0\.0\.1:\d+/agents/NAME/, mutual TLS", o);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(o, "activated").Count);
        Assert.Contains("replayed quote with a new nonce: NonceMismatch", o, StringComparison.Ordinal);
        Assert.Contains("quote signed by an unenrolled AK: SignatureInvalid", o, StringComparison.Ordinal);
        Assert.Matches(@"UNTRUSTED PCR\[0\] sha256 expected [0-9a-f]{16}\.\. got [0-9a-f]{16}\.\.; first differing event #2 EV_EFI_PLATFORM_FIRMWARE_BLOB", o);
        Assert.Contains("2 trusted, 1 untrusted (host-03)", o, StringComparison.Ordinal);
        Assert.Contains("simulator", o, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_OneHost_Exit2()
    {
        var r = Cli.Run("demo", "--hosts", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--hosts", r.StdErr, StringComparison.Ordinal);
    }
}
