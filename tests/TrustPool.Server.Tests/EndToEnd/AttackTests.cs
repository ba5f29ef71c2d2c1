using System.Net;
using System.Text.Json.Nodes;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Pki;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 5: every attack is rejected with its own fault. A tampering proxy stands in for a compromised agent; the
/// real agents and the service run on loopback with mutual TLS, on SQLite and on PostgreSQL (the subclasses).
/// </summary>
[Trait("Category", "Integration")]
public abstract class AttackTests
{
    private static readonly SimulatedBoot s_golden = new();

    protected abstract string Provider { get; }

    private async Task<(ServiceHarness H, TamperingProxy Proxy, TestHost Real)> EnrollBehindProxyAsync(Func<string, JsonNode?, JsonNode, JsonNode>? rewriteAtEnrollment = null)
    {
        var h = await ServiceHarness.StartAsync(Provider);
        var real = h.AddSoftwareHost("real", s_golden);
        using var ca = ServiceCa.LoadOrCreate(h.Options.DataDirectory, out _);
        var proxy = await TamperingProxy.StartAsync(Path.Combine(h.Dir.FullName, "proxy"), ca.LoadOrIssueClientCertificate(h.Options.DataDirectory));
        proxy.Upstream = real.AgentUrl;
        proxy.Rewrite = rewriteAtEnrollment;
        return (h, proxy, real);
    }

    private static async Task<(HttpStatusCode, JsonNode?)> EnrollProxyAsync(ServiceHarness h, TamperingProxy proxy) =>
        await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject { ["name"] = "victim", ["agentUrl"] = proxy.Url.ToString(), ["agentCertFingerprint"] = proxy.Fingerprint });

    private static async Task EnrollProxyOkAsync(ServiceHarness h, TamperingProxy proxy)
    {
        var (status, body) = await EnrollProxyAsync(h, proxy);
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {body?.ToJsonString()}");
    }

    private static IEnumerable<string> FaultCodes(JsonNode report) =>
        report["faults"]!.AsArray().Select(f => f!["code"]!.GetValue<string>());

    [SkippableFact]
    public async Task ReplayedQuote_OldNonce_NonceMismatch()
    {
        var (h, proxy, _) = await EnrollBehindProxyAsync();
        await using var _h = h;
        await using var _p = proxy;
        await EnrollProxyOkAsync(h, proxy);
        JsonNode? recorded = null;
        proxy.Rewrite = (path, _, answer) => path == "v1/quote" ? recorded ??= answer : answer;
        Assert.Equal("untrusted", (await h.AttestAsync("victim"))["trust"]!.GetValue<string>()); // no pool yet, but the quote verified
        var replayed = await h.AttestAsync("victim");
        Assert.Equal("untrusted", replayed["trust"]!.GetValue<string>());
        Assert.Contains("NonceMismatch", FaultCodes(replayed));
    }

    [SkippableFact]
    public async Task QuoteFromAnotherTpm_UnenrolledKey_SignatureInvalid()
    {
        var (h, proxy, _) = await EnrollBehindProxyAsync();
        await using var _h = h;
        await using var _p = proxy;
        await EnrollProxyOkAsync(h, proxy);
        var other = h.AddSoftwareHost("other", s_golden);
        proxy.Rewrite = null;
        proxy.Upstream = other.AgentUrl;
        // Identity still comes from the enrolled TPM: only the quote is foreign.
        proxy.Rewrite = (path, _, answer) => answer;
        var report = await h.AttestAsync("victim");
        Assert.Equal("untrusted", report["trust"]!.GetValue<string>());
        Assert.Contains("SignatureInvalid", FaultCodes(report));
    }

    [SkippableFact]
    public async Task AkWithoutFixedTpm_Enrollment_Refused()
    {
        var (h, proxy, _) = await EnrollBehindProxyAsync((path, _, answer) =>
        {
            if (path != "v1/identity")
            {
                return answer;
            }

            // Clear fixedTPM (bit 1 of TPMA_OBJECT, big-endian u32 at offset 2+2+2 of TPM2B_PUBLIC) and present the matching name.
            var pub = Convert.FromBase64String(answer["akPublic"]!.GetValue<string>());
            pub[2 + 2 + 2 + 3] &= unchecked((byte)~0x02);
            answer["akPublic"] = Convert.ToBase64String(pub);
            answer["akName"] = Convert.ToBase64String(TpmtPublic.ParseTpm2b(pub).Name);
            return answer;
        });
        await using var _h = h;
        await using var _p = proxy;
        var (status, problem) = await EnrollProxyAsync(h, proxy);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("urn:trustpool:service:enrollment-ak-attributes", problem!["type"]!.GetValue<string>());
        Assert.Contains("FixedTpm", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, "/v1/hosts/victim")).Item1);
    }

    [SkippableFact]
    public async Task EkCertificateFromUnknownCa_Enrollment_Refused()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var rogue = h.AddSoftwareHost("rogue", s_golden, EkCertificate.UnknownVendor);
        var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = "rogue", ["agentUrl"] = rogue.AgentUrl.ToString(), ["agentCertFingerprint"] = rogue.Fingerprint,
        });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("urn:trustpool:service:enrollment-ek-certificate-untrusted", problem!["type"]!.GetValue<string>());

        var bare = h.AddSoftwareHost("bare", s_golden, EkCertificate.None);
        (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = "bare", ["agentUrl"] = bare.AgentUrl.ToString(), ["agentCertFingerprint"] = bare.Fingerprint,
        });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("urn:trustpool:service:enrollment-ek-certificate-missing", problem!["type"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task EditedPcrValue_PcrDigestMismatch()
    {
        var (h, proxy, _) = await EnrollBehindProxyAsync();
        await using var _h = h;
        await using var _p = proxy;
        await EnrollProxyOkAsync(h, proxy);
        proxy.Rewrite = (path, _, answer) =>
        {
            if (path == "v1/quote")
            {
                answer["pcrs"]!["sha256"]!["0"] = new string('a', 64);
            }

            return answer;
        };
        var report = await h.AttestAsync("victim");
        Assert.Equal("untrusted", report["trust"]!.GetValue<string>());
        Assert.Contains("PcrDigestMismatch", FaultCodes(report));
    }

    [SkippableFact]
    public async Task SwappedEventLog_DoesNotReplay_EventLogDoesNotReplay()
    {
        var (h, proxy, _) = await EnrollBehindProxyAsync();
        await using var _h = h;
        await using var _p = proxy;
        await EnrollProxyOkAsync(h, proxy);
        var other = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TrustPool.Tpm.TpmAlgorithmId.Sha1, TrustPool.Tpm.TpmAlgorithmId.Sha256),
            s_golden with { BootLoader = "another boot loader"u8.ToArray() }).ToArray();
        proxy.Rewrite = (path, _, answer) =>
        {
            if (path == "v1/quote")
            {
                answer["uefiLog"] = Convert.ToBase64String(other);
            }

            return answer;
        };
        var report = await h.AttestAsync("victim");
        Assert.Equal("untrusted", report["trust"]!.GetValue<string>());
        Assert.Contains("EventLogDoesNotReplay", FaultCodes(report));
    }

    [SkippableFact]
    public async Task ClockGoesBackwards_SameBoot_ClockRollback()
    {
        var tpmTime = new ManualTime(DateTimeOffset.UtcNow);
        await using var h = await ServiceHarness.StartAsync(Provider);
        var host = h.AddSoftwareHost("sw-1", s_golden, time: tpmTime);
        await h.EnrollAsync(host);
        tpmTime.Advance(TimeSpan.FromMinutes(10));
        Assert.DoesNotContain("ClockRollback", FaultCodes(await h.AttestAsync("sw-1")));
        tpmTime.Advance(TimeSpan.FromMinutes(-5));
        var report = await h.AttestAsync("sw-1");
        Assert.Equal("untrusted", report["trust"]!.GetValue<string>());
        Assert.Contains("ClockRollback", FaultCodes(report));
    }

    [SkippableFact]
    public async Task ReportPastValidTo_VerifyAndHostView_ReportExpired()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        await using var h = await ServiceHarness.StartAsync(Provider, time: time);
        var host = h.AddSoftwareHost("sw-1", s_golden);
        await h.EnrollAsync(host);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "sw-1");
        var report = await h.AttestAsync("sw-1");
        Assert.Equal("trusted", report["trust"]!.GetValue<string>());
        time.Advance(TimeSpan.FromSeconds(h.Options.ReportValiditySeconds + 1));
        var verified = await h.OkAsync(HttpMethod.Post, "/v1/reports/verify", new JsonObject { ["jws"] = report["jws"]!.GetValue<string>() });
        Assert.True(verified["valid"]!.GetValue<bool>());
        Assert.False(verified["current"]!.GetValue<bool>());
        Assert.StartsWith("ReportExpired", verified["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("unknown", (await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1"))["trust"]!.GetValue<string>());
    }
}

public sealed class AttackSqliteTests : AttackTests
{
    protected override string Provider => "sqlite";
}

public sealed class AttackPostgresTests : AttackTests
{
    protected override string Provider => "postgres";
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public void Advance(TimeSpan by) => _now += by;

    public override DateTimeOffset GetUtcNow() => _now;

    // The software TPM measures its clock with timestamps: move them with the wall clock.
    public override long GetTimestamp() => _now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}

/// <summary>Issue 5: <c>--ek-trust tofu</c> exists for labs and marks such hosts in every report.</summary>
[Trait("Category", "Integration")]
public sealed class TrustOnFirstUseTests
{
    [SkippableFact]
    public async Task TofuService_HostWithoutEkCertificate_EnrolledAndMarkedInEveryReport()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite", o => o with { EkTrust = "tofu", EkCaDirectory = null });
        var host = h.AddSoftwareHost("lab-1", new SimulatedBoot(), EkCertificate.None);
        var enrolled = await h.EnrollAsync(host);
        Assert.Equal("tofu", enrolled["ekTrust"]!.GetValue<string>());
        Assert.False(enrolled["ekCertificate"]!.GetValue<bool>());
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "lab-1");
        var report = await h.AttestAsync("lab-1");
        Assert.Equal("tofu", report["ekTrust"]!.GetValue<string>());
        Assert.Equal("trusted", report["trust"]!.GetValue<string>());
    }
}
