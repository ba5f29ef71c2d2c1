using TrustPool.Attestation;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Hosting;

/// <summary>
/// Current trust per host for the <c>trustpool.hosts</c> gauge, from every stored report of the host's current
/// enrollment; a report past its validTo counts as unknown at scrape time, like everywhere else. An ended enrollment
/// (host removed or enrolled again) leaves the gauge at once, and a report of it stored later (an attestation that
/// was in flight) is never counted.
/// </summary>
internal sealed class HostsByTrust(TimeProvider time)
{
    /// <summary>
    /// How long an ended enrollment is remembered: far longer than any attempt can take between reading the host and
    /// storing its report (request timeout and retries, bounded by the nonce lifetime on the evidence path).
    /// </summary>
    private static readonly TimeSpan s_endedKept = TimeSpan.FromHours(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Enrollment, string Trust, DateTimeOffset ValidTo)> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

    public void Apply(ReportRecord r)
    {
        lock (_lock)
        {
            // A report without an enrollment (older rows) is nobody's current report; one of an ended enrollment never again.
            if (r.Enrollment is { } e && !_ended.ContainsKey(e))
            {
                _hosts[r.Host] = (e, r.Trust, r.ValidTo);
            }
        }
    }

    public void End(string host, string? enrollment)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var old in _ended.Where(kv => now - kv.Value > s_endedKept).Select(kv => kv.Key).ToList())
            {
                _ended.Remove(old);
            }

            if (enrollment is not null)
            {
                _ended[enrollment] = now;
            }

            // Not a report of the new enrollment that may already have been counted (re-enrolled, attested at once).
            if (_hosts.TryGetValue(host, out var v) && (enrollment is null || v.Enrollment == enrollment))
            {
                _hosts.Remove(host);
            }
        }
    }

    /// <summary>Every level, 0 included: a series that stops being reported would keep its last value in the exporter.</summary>
    public IReadOnlyDictionary<TrustLevel, int> Snapshot()
    {
        var now = time.GetUtcNow();
        var counts = Enum.GetValues<TrustLevel>().ToDictionary(t => t, _ => 0);
        lock (_lock)
        {
            foreach (var v in _hosts.Values)
            {
                counts[v.ValidTo <= now || !Enum.TryParse<TrustLevel>(v.Trust, true, out var t) ? TrustLevel.Unknown : t]++;
            }
        }

        return counts;
    }

    public async Task LoadAsync(ITrustStore store, CancellationToken ct)
    {
        foreach (var (_, report) in await store.GetLatestReportsAsync(ct))
        {
            lock (_lock)
            {
                // Reports stored since the start won over what the store said then.
                if (report.Enrollment is { } e && !_ended.ContainsKey(e))
                {
                    _hosts.TryAdd(report.Host, (e, report.Trust, report.ValidTo));
                }
            }
        }
    }
}
