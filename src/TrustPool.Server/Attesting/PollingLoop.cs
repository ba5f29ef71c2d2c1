using Microsoft.Extensions.Logging;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Attesting;

/// <summary>
/// Continuous attestation: every interval, claim the hosts due (leases, so instances sharing one PostgreSQL never
/// attest a host twice per interval and take over a dead instance's hosts), spread them over the first
/// <see cref="ServerOptions.Jitter"/> of the interval, and attest with bounded concurrency.
/// </summary>
public sealed class PollingLoop : IAsyncDisposable
{
    private readonly ITrustStore _store;
    private readonly AttestationService _attestations;
    private readonly ServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public PollingLoop(ITrustStore store, AttestationService attestations, ServerOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _attestations = attestations;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public long Rounds { get; private set; }

    public DateTimeOffset? LastRoundAt { get; private set; }

    public void Start()
    {
        if (_options.IntervalSeconds > 0)
        {
            _loop = Task.Run(() => RunAsync(_stop.Token));
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.Interval, _time);
        do
        {
            try
            {
                await RoundAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A round that failed (database down) is logged and the next one tries again.
                ServerLog.RoundFailed(_logger, e);
            }
        }
        while (await WaitAsync(timer, ct));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One round over every host this instance can claim; returns how many were attempted.</summary>
    public async Task<int> RoundAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        // A lease a little shorter than the interval: the next round can claim the host again.
        var lease = _options.Interval > TimeSpan.FromSeconds(2) ? _options.Interval - TimeSpan.FromSeconds(1) : _options.Interval;
        var hosts = await _store.ClaimHostsAsync(_options.InstanceId, now, lease, 1_000_000, ct);

        // The claimed hosts' records in one query rather than one per attestation (10,000 round trips per round on
        // PostgreSQL otherwise). A host enrolled or deleted since the claim is read on its own below.
        var records = hosts.Count == 0 ? [] : (await _store.ListHostsAsync(ct)).ToDictionary(h => h.Name, StringComparer.Ordinal);
        // Each host gets a random start within the jitter window; taken in start order, a worker never holds a
        // concurrency slot waiting for a later host while an earlier one is due.
        var spread = _options.Interval * _options.Jitter;
        var schedule = hosts.Select(h => (Host: h, Due: now + (spread * Random.Shared.NextDouble()))).OrderBy(x => x.Due).ToList();
        await Parallel.ForEachAsync(schedule, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = ct }, async (item, token) =>
        {
            var (name, due) = item;
            var wait = due - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, token);
            }

            try
            {
                await (records.TryGetValue(name, out var record) ? _attestations.AttestAsync(record, token) : _attestations.AttestAsync(name, token));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                ServerLog.AttestationFailed(_logger, name, e);
            }
        });
        Rounds++;
        LastRoundAt = now;
        ServerLog.RoundDone(_logger, hosts.Count, (_time.GetUtcNow() - now).TotalMilliseconds);
        return hosts.Count;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }
}
