using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using TrustPool.Server.Pki;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// The metrics meter is process-wide by name (one service per process in production), so a test that counts
/// series runs alone, after the parallel tests, with no other service in the process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMetricsCollection
{
    public const string Name = "process-wide metrics";
}

/// <summary><c>/metrics</c> after real attestations (issue 5, item 7).</summary>
[Trait("Category", "Integration")]
[Collection(ProcessWideMetricsCollection.Name)]
public sealed class ServiceMetricsTests
{
    private static readonly TrustPool.Evidence.Uefi.SimulatedBoot s_golden = new();

    [Fact]
    public async Task Metrics_AfterAttestations_ExposeAttestationsByResultLatencyBucketsAndHostsByTrust()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        await h.EnrollAsync(h.AddSoftwareHost("sw-1", s_golden));
        await ServiceOperationsTests.GoldenPoolAsync(h, "sw-1");
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());

        // /metrics is unauthenticated (Prometheus scrapes it) and in the Prometheus text format.
        using var anonymous = h.NewClient(null);
        using var response = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.Split('\n');
        var trusted = Assert.Single(lines, l => l.StartsWith("trustpool_attestations_total{", StringComparison.Ordinal) && l.Contains("result=\"trusted\"", StringComparison.Ordinal));
        Assert.Equal(2, double.Parse(trusted.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(lines, l => l.StartsWith("trustpool_attestation_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"0.5\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("trustpool_attestation_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"+Inf\"", StringComparison.Ordinal)
                                    && l.EndsWith(" 2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("trustpool_attestation_duration_seconds_count", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));
        var hosts = Assert.Single(lines, l => l.StartsWith("trustpool_hosts{", StringComparison.Ordinal) && l.Contains("trust=\"trusted\"", StringComparison.Ordinal));
        Assert.EndsWith(" 1", hosts, StringComparison.Ordinal);

        Assert.Contains(lines, l => l.StartsWith("trustpool_hosts{", StringComparison.Ordinal) && l.Contains("trust=\"untrusted\"", StringComparison.Ordinal) && l.EndsWith(" 0", StringComparison.Ordinal));

        // A removed host no longer counts (after the exporter's scrape cache expired).
        await h.OkAsync(HttpMethod.Delete, "/v1/hosts/sw-1");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var after = (await anonymous.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n');
        var trustedAfter = Assert.Single(after, l => l.StartsWith("trustpool_hosts{", StringComparison.Ordinal) && l.Contains("trust=\"trusted\"", StringComparison.Ordinal));
        Assert.EndsWith(" 0", trustedAfter, StringComparison.Ordinal);
    }

    /// <summary>The <c>trustpool_hosts</c> series by trust, read after the exporter's scrape cache expired.</summary>
    private static async Task<Dictionary<string, double>> HostsByTrustAsync(ServiceHarness h)
    {
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using var anonymous = h.NewClient(null);
        var lines = (await anonymous.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n');
        return lines.Where(l => l.StartsWith("trustpool_hosts{", StringComparison.Ordinal))
            .ToDictionary(l => l[(l.IndexOf("trust=\"", StringComparison.Ordinal) + 7)..].Split('"')[0], l => double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Issue 13: the gauge counts only reports of a host's current enrollment. Re-enrolled, the host leaves its old
    /// trust at once; removed while an attestation is in flight (the agent's quote held back until the host is gone),
    /// the report that attempt then stores (of the removed enrollment) does not put it back.
    /// </summary>
    [Fact]
    public async Task HostsGauge_ReEnrolledOrRemovedDuringAttestation_NeverCountsAnEndedEnrollment()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var agent = h.AddSoftwareHost("sw-1-agent", s_golden);
        using var ca = ServiceCa.LoadOrCreate(h.Options.DataDirectory, out _);
        await using var proxy = await TamperingProxy.StartAsync(Path.Combine(h.Dir.FullName, "proxy"), ca.LoadOrIssueClientCertificate(h.Options.DataDirectory));
        proxy.Upstream = agent.AgentUrl;
        var (status, body) = await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = "sw-1", ["agentUrl"] = proxy.Url.ToString(), ["agentCertFingerprint"] = proxy.Fingerprint,
        });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {body?.ToJsonString()}");
        await ServiceOperationsTests.GoldenPoolAsync(h, "sw-1");
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        Assert.Equal(1, (await HostsByTrustAsync(h))["trusted"]);

        // Enrolled again: its previous enrollment's trusted report no longer counts, until its own first report.
        await h.OkAsync(HttpMethod.Post, "/v1/hosts/sw-1/enroll", new JsonObject());
        var reenrolled = await HostsByTrustAsync(h);
        Assert.Equal(0, reenrolled["trusted"]);
        Assert.Equal(0, reenrolled["untrusted"]);
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        Assert.Equal(1, (await HostsByTrustAsync(h))["trusted"]);

        // An attestation in flight: the agent's quote is held until the host has been removed.
        using var quoteArrived = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        proxy.Rewrite = (path, _, answer) =>
        {
            if (path == "v1/quote")
            {
                quoteArrived.Set();
                release.Wait(TimeSpan.FromSeconds(30));
            }

            return answer;
        };
        var inFlight = h.AttestAsync("sw-1");
        Assert.True(await Task.Run(() => quoteArrived.Wait(TimeSpan.FromSeconds(30))), "the quote never reached the proxy");
        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, "/v1/hosts/sw-1")).Status);
        release.Set();
        var late = await inFlight;
        Assert.Equal("trusted", late["trust"]!.GetValue<string>()); // stored as history, of the removed enrollment
        var removed = await HostsByTrustAsync(h);
        Assert.Equal(0, removed["trusted"]);
        Assert.Equal(0, removed["untrusted"]);
        Assert.Equal(0, removed["unknown"]);

        // The name enrolled again: its first trusted report is a trust change (event, webhooks, Placement sync), even
        // though the late report of the removed enrollment said trusted too.
        proxy.Rewrite = null;
        var changes = new System.Collections.Concurrent.ConcurrentQueue<TrustPool.Server.Events.TrustChange>();
        h.Server.Context.Events.Changed += changes.Enqueue;
        (status, body) = await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = "sw-1", ["agentUrl"] = proxy.Url.ToString(), ["agentCertFingerprint"] = proxy.Fingerprint,
        });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {body?.ToJsonString()}");
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        Assert.Contains(changes, c => c.Host == "sw-1" && c.Current == TrustPool.Attestation.TrustLevel.Trusted && c.Previous is null);
        Assert.Equal(1, (await HostsByTrustAsync(h))["trusted"]);
    }
}
