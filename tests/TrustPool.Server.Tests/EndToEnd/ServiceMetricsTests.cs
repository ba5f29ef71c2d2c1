using System.Net;

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
}
