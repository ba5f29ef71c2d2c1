using System.Net;
using System.Text.Json.Nodes;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Pki;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 13, holes 2 and 3, through the real service over HTTPS and real agents (software TPMs), on SQLite and
/// PostgreSQL (the subclasses): one TPM is one host (a relay to an enrolled host's agent cannot enroll a second name,
/// an agent answering with another enrolled host's TPM is caught), and a report belongs to one enrollment (a removed
/// or re-added name never reads as trusted on an old report).
/// </summary>
[Trait("Category", "Integration")]
public abstract class IdentityTests
{
    private const string PollHostsPath = "/OpenAttestationWebServices/V1.0/PollHosts";
    private static readonly SimulatedBoot s_golden = new();

    protected abstract string Provider { get; }

    private static async Task<TamperingProxy> StartProxyAsync(ServiceHarness h, Uri upstream)
    {
        using var ca = ServiceCa.LoadOrCreate(h.Options.DataDirectory, out _);
        var proxy = await TamperingProxy.StartAsync(Path.Combine(h.Dir.FullName, "proxy"), ca.LoadOrIssueClientCertificate(h.Options.DataDirectory));
        proxy.Upstream = upstream;
        return proxy;
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> EnrollAtAsync(ServiceHarness h, string name, Uri agentUrl, string fingerprint) =>
        await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = name, ["agentUrl"] = agentUrl.ToString(), ["agentCertFingerprint"] = fingerprint,
        });

    /// <summary>What Nova's TrustedFilter would read for <paramref name="name"/>.</summary>
    private static async Task<string> PollHostsAsync(ServiceHarness h, string name)
    {
        using var nova = h.NewClient(null);
        nova.DefaultRequestHeaders.Add("x-auth-blob", h.AdminToken);
        var (status, body) = await h.SendAsync(HttpMethod.Post, PollHostsPath, new JsonObject { ["count"] = 1, ["hosts"] = new JsonArray(name) }, nova);
        Assert.True(status == HttpStatusCode.OK, $"PollHosts: {(int)status} {body?.ToJsonString()}");
        var hosts = body!["hosts"]!.AsArray();
        Assert.Single(hosts);
        Assert.Equal(name, hosts[0]!["host_name"]!.GetValue<string>());
        return hosts[0]!["trust_lvl"]!.GetValue<string>();
    }

    private static IEnumerable<JsonNode> Faults(JsonNode report) => report["faults"]!.AsArray().Select(f => f!);

    [SkippableFact]
    public async Task RelayToEnrolledHostsAgent_SecondName_RefusedEkAlreadyEnrolled()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var real = h.AddSoftwareHost("real", s_golden);
        await h.EnrollAsync(real);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "real");
        Assert.Equal("trusted", (await h.AttestAsync("real"))["trust"]!.GetValue<string>());

        // The "cuckoo": another name whose agent URL forwards everything to real's agent (same EK, same AK).
        await using var relay = await StartProxyAsync(h, real.AgentUrl);
        var (status, problem) = await EnrollAtAsync(h, "cuckoo", relay.Url, relay.Fingerprint);
        Assert.True(status == HttpStatusCode.Conflict, $"{(int)status} {problem?.ToJsonString()}");
        Assert.Equal("urn:trustpool:service:enrollment-ek-already-enrolled", problem!["type"]!.GetValue<string>());
        Assert.Contains("'real'", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, "/v1/hosts/cuckoo")).Status);
        Assert.Equal("unknown", await PollHostsAsync(h, "cuckoo"));

        // The same TLS passthrough without a relay: the agent's own URL under a second name is refused the same way.
        var (direct, problem2) = await EnrollAtAsync(h, "cuckoo2", real.AgentUrl, real.Fingerprint);
        Assert.Equal(HttpStatusCode.Conflict, direct);
        Assert.Equal("urn:trustpool:service:enrollment-ek-already-enrolled", problem2!["type"]!.GetValue<string>());

        // The holder itself may re-enroll with its own TPM, and stays the only host.
        await h.OkAsync(HttpMethod.Post, "/v1/hosts/real/enroll", new JsonObject());
        var hosts = (await h.OkAsync(HttpMethod.Get, "/v1/hosts"))["hosts"]!.AsArray();
        Assert.Equal(["real"], hosts.Select(x => x!["name"]!.GetValue<string>()));
    }

    [SkippableFact]
    public async Task ConcurrentEnrollmentsOfOneTpm_OneWins_OtherEkAlreadyEnrolledNever500()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var real = h.AddSoftwareHost("real", s_golden);
        await using var relay = await StartProxyAsync(h, real.AgentUrl);
        for (var round = 0; round < 3; round++)
        {
            // Both pass the pre-insert check when they race; the unique index then decides, and the loser gets the same 409.
            var names = new[] { $"twin-a{round}", $"twin-b{round}" };
            var results = await Task.WhenAll(
                EnrollAtAsync(h, names[0], real.AgentUrl, real.Fingerprint),
                EnrollAtAsync(h, names[1], relay.Url, relay.Fingerprint));
            Assert.Single(results, r => r.Status == HttpStatusCode.Created);
            var loser = Assert.Single(results, r => r.Status != HttpStatusCode.Created);
            Assert.True(loser.Status == HttpStatusCode.Conflict, $"{(int)loser.Status} {loser.Body?.ToJsonString()}");
            Assert.Equal("urn:trustpool:service:enrollment-ek-already-enrolled", loser.Body!["type"]!.GetValue<string>());
            var winner = names[Array.FindIndex(results, r => r.Status == HttpStatusCode.Created)];
            Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, $"/v1/hosts/{winner}")).Status);
        }
    }

    [SkippableFact]
    public async Task UrlSwitchedToAnotherEnrolledHostsAgent_AgentIdentityMismatchNamingIt()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var a = h.AddSoftwareHost("host-a", s_golden);
        var b = h.AddSoftwareHost("host-b", s_golden);
        await using var proxy = await StartProxyAsync(h, a.AgentUrl);
        var (status, body) = await EnrollAtAsync(h, "victim", proxy.Url, proxy.Fingerprint);
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {body?.ToJsonString()}");
        await h.EnrollAsync(b);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "host-b");
        Assert.Equal("trusted", (await h.AttestAsync("victim"))["trust"]!.GetValue<string>());
        Assert.Equal("trusted", await PollHostsAsync(h, "victim"));

        // victim's agent URL now reaches host-b's agent: a genuine TPM, but not victim's.
        proxy.Upstream = b.AgentUrl;
        var report = await h.AttestAsync("victim");
        Assert.NotEqual("trusted", report["trust"]!.GetValue<string>());
        var mismatch = Assert.Single(Faults(report), f => f["code"]!.GetValue<string>() == "AgentIdentityMismatch");
        Assert.Contains("'host-b'", mismatch["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("re-enrollment-required", (await h.OkAsync(HttpMethod.Get, "/v1/hosts/victim"))["state"]!.GetValue<string>());
        Assert.NotEqual("trusted", await PollHostsAsync(h, "victim"));

        // Later attempts stay unknown until an operator re-enrolls; host-b itself is untouched.
        Assert.Equal("unknown", (await h.AttestAsync("victim"))["trust"]!.GetValue<string>());
        Assert.Equal("trusted", (await h.AttestAsync("host-b"))["trust"]!.GetValue<string>());

        // Re-enrolling victim at this URL would make it host-b's TPM twice: refused.
        var (reenroll, problem) = await h.SendAsync(HttpMethod.Post, "/v1/hosts/victim/enroll", new JsonObject());
        Assert.Equal(HttpStatusCode.Conflict, reenroll);
        Assert.Equal("urn:trustpool:service:enrollment-ek-already-enrolled", problem!["type"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task RemovedHost_PollHostsAndApi_UnknownAtOnce()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var host = h.AddSoftwareHost("sw-1", s_golden);
        await h.EnrollAsync(host);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "sw-1");
        var trusted = await h.AttestAsync("sw-1");
        Assert.Equal("trusted", trusted["trust"]!.GetValue<string>());
        Assert.Equal("trusted", await PollHostsAsync(h, "sw-1"));

        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, "/v1/hosts/sw-1")).Status);
        Assert.Equal("unknown", await PollHostsAsync(h, "sw-1"));
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, "/v1/hosts/sw-1/report")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, "/v1/hosts/sw-1")).Status);
        Assert.DoesNotContain((await h.OkAsync(HttpMethod.Get, "/v1/hosts"))["hosts"]!.AsArray(), x => x!["name"]!.GetValue<string>() == "sw-1");

        // The report itself stays as history, but is nobody's current trust any more.
        var kept = await h.OkAsync(HttpMethod.Get, $"/v1/reports/{trusted["id"]!.GetValue<string>()}");
        Assert.Equal("trusted", kept["trust"]!.GetValue<string>());
        Assert.Equal("unknown", kept["currentTrust"]!.GetValue<string>());
        var verified = await h.OkAsync(HttpMethod.Post, "/v1/reports/verify", new JsonObject { ["jws"] = trusted["jws"]!.GetValue<string>() });
        Assert.True(verified["valid"]!.GetValue<bool>());
        Assert.False(verified["current"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [SkippableFact]
    public async Task ReAddedNameWithAnotherTpm_UnknownUntilItsOwnReport()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var first = h.AddSoftwareHost("sw-1", s_golden);
        await h.EnrollAsync(first);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "sw-1");
        var old = await h.AttestAsync("sw-1");
        Assert.Equal("trusted", old["trust"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, "/v1/hosts/sw-1")).Status);

        // The same name again, on another software TPM.
        var second = h.AddSoftwareHost("sw-1-new-tpm", s_golden);
        var (status, enrolled) = await EnrollAtAsync(h, "sw-1", second.AgentUrl, second.Fingerprint);
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {enrolled?.ToJsonString()}");
        Assert.Equal("unknown", enrolled!["trust"]!.GetValue<string>());
        var shown = await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1");
        Assert.Equal("unknown", shown["trust"]!.GetValue<string>());
        Assert.Null(shown["reportId"]);
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, "/v1/hosts/sw-1/report")).Status);
        Assert.Equal("unknown", (await h.OkAsync(HttpMethod.Get, "/v1/hosts"))["hosts"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == "sw-1")!["trust"]!.GetValue<string>());
        Assert.Equal("unknown", await PollHostsAsync(h, "sw-1"));

        // Its own first verified report, and only that, makes it trusted; the report names its enrollment.
        var own = await h.AttestAsync("sw-1");
        Assert.Equal("trusted", own["trust"]!.GetValue<string>());
        Assert.NotEqual(old["id"]!.GetValue<string>(), own["id"]!.GetValue<string>());
        Assert.Equal(own["id"]!.GetValue<string>(), (await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1/report"))["id"]!.GetValue<string>());
        Assert.Equal("trusted", await PollHostsAsync(h, "sw-1"));
        var enrollment = own["enrollment"]?.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(enrollment), own.ToJsonString());
        Assert.NotEqual(old["enrollment"]?.GetValue<string>(), enrollment);
    }

    [SkippableFact]
    public async Task ReEnrolledHost_PreviousReportNoLongerCurrent()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var host = h.AddSoftwareHost("sw-1", s_golden);
        await h.EnrollAsync(host);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "sw-1");
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());

        var reenrolled = await h.OkAsync(HttpMethod.Post, "/v1/hosts/sw-1/enroll", new JsonObject());
        Assert.Equal("unknown", reenrolled["trust"]!.GetValue<string>());
        Assert.Equal("unknown", (await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1"))["trust"]!.GetValue<string>());
        Assert.Equal("unknown", await PollHostsAsync(h, "sw-1"));
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        Assert.Equal("trusted", await PollHostsAsync(h, "sw-1"));
    }
}

public sealed class IdentitySqliteTests : IdentityTests
{
    protected override string Provider => "sqlite";
}

public sealed class IdentityPostgresTests : IdentityTests
{
    protected override string Provider => "postgres";
}
