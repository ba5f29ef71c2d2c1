using System.Diagnostics.Metrics;
using TrustPool.Attestation;
using TrustPool.Server.Agents;

namespace TrustPool.Server.Observability;

/// <summary>
/// The service's metrics (meter <c>TrustPool.Server</c>, exported at <c>/metrics</c> in Prometheus format):
/// attestations by result, attestation latency, agent failures by kind, hosts by current trust.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "TrustPool.Server";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _attestations;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _agentFailures;

    public ServerMetrics(Func<IReadOnlyDictionary<TrustLevel, int>> hostsByTrust)
    {
        _attestations = _meter.CreateCounter<long>("trustpool.attestations", unit: "{attestation}", description: "Attestations by result");
        _latency = _meter.CreateHistogram<double>("trustpool.attestation.duration", unit: "s", description: "Time from nonce to stored report",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _agentFailures = _meter.CreateCounter<long>("trustpool.agent.failures", unit: "{failure}", description: "Agent requests that failed, by kind");
        _meter.CreateObservableGauge("trustpool.hosts", () => hostsByTrust().Select(kv =>
            new Measurement<int>(kv.Value, new KeyValuePair<string, object?>("trust", kv.Key.ToString().ToLowerInvariant()))), unit: "{host}",
            description: "Hosts by current trust");
    }

    public long AttestationCount { get; private set; }

    public void Attested(TrustLevel result, TimeSpan elapsed)
    {
        AttestationCount++;
        _attestations.Add(1, new KeyValuePair<string, object?>("result", result.ToString().ToLowerInvariant()));
        _latency.Record(elapsed.TotalSeconds);
    }

    public void AgentFailure(AgentFailure failure) =>
        _agentFailures.Add(1, new KeyValuePair<string, object?>("kind", failure.ToString().ToLowerInvariant()));

    public void Dispose() => _meter.Dispose();
}
