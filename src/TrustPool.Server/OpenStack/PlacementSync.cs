using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Server.Events;
using TrustPool.Server.Storage;

namespace TrustPool.Server.OpenStack;

/// <summary>What /readyz says about Placement.</summary>
public sealed record PlacementStatus(bool Reachable, DateTimeOffset? LastSuccess, string? LastError, long Syncs, int Pending);

/// <summary>
/// Keeps TrustPool's traits on OpenStack Placement in step with trust: a host's provider carries
/// <c>CUSTOM_TRUSTPOOL_TRUSTED</c>, its tag and pool traits only while its current report says trusted. Synced on every
/// trust change and reconciled in full every <see cref="ReconcileInterval"/>. Traits owned by others are kept;
/// generation conflicts (409) are re-read and retried; an unreachable Placement is retried with back-off and
/// reported, and never slows attestation (trust changes only enqueue a host name).
/// </summary>
public sealed class PlacementSync : IAsyncDisposable
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromMinutes(5);
    private const int MaxConflictRetries = 8;

    private readonly PlacementClient _client;
    private readonly ITrustStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _reconcile;
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _ensuredTraits = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _worker;
    private Task? _reconciler;
    private volatile bool _reachable = true;
    private DateTimeOffset? _lastSuccess;
    private string? _lastError;
    private long _syncs;

    public PlacementSync(PlacementClient client, ITrustStore store, TimeProvider time, ILogger logger, TimeSpan? reconcile = null)
    {
        _client = client;
        _store = store;
        _time = time;
        _logger = logger;
        _reconcile = reconcile ?? ReconcileInterval;
    }

    public PlacementStatus Status => new(_reachable, _lastSuccess, _lastError, Interlocked.Read(ref _syncs), _pending.Count);

    public void Start(TrustEvents events)
    {
        events.Changed += c => Enqueue(c.Host);
        _worker = Task.Run(() => WorkAsync(_stop.Token));
        _reconciler = Task.Run(() => ReconcileLoopAsync(_stop.Token));
    }

    /// <summary>Asks for <paramref name="host"/>'s traits to be brought in line (also after tag changes and removal).</summary>
    public void Enqueue(string host)
    {
        if (_pending.TryAdd(host, 0))
        {
            _queue.Writer.TryWrite(host);
        }
    }

    /// <summary>Enqueues every enrolled host (the periodic full reconcile).</summary>
    public async Task ReconcileAllAsync(CancellationToken ct)
    {
        foreach (var h in await _store.ListHostsAsync(ct))
        {
            Enqueue(h.Name);
        }
    }

    private async Task ReconcileLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_reconcile, _time);
        try
        {
            do
            {
                try
                {
                    await ReconcileAllAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ServerLog.PlacementFailed(_logger, "(reconcile)", e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        var backoff = TimeSpan.FromSeconds(1);
        try
        {
            await foreach (var host in _queue.Reader.ReadAllAsync(ct))
            {
                _pending.TryRemove(host, out _);
                try
                {
                    await SyncHostAsync(host, ct);
                    _reachable = true;
                    _lastSuccess = _time.GetUtcNow();
                    _lastError = null;
                    backoff = TimeSpan.FromSeconds(1);
                }
                catch (PlacementException e)
                {
                    _lastError = e.Message;
                    _reachable = e.Status is not null;
                    ServerLog.PlacementFailed(_logger, host, e.Message);
                    // Back off, then try this host again; the queue keeps every other host waiting in order.
                    await Task.Delay(backoff, _time, ct);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
                    Enqueue(host);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Brings one provider's TrustPool traits in line with the host's current trust. Returns the traits set, or null without a provider.</summary>
    public async Task<IReadOnlyList<string>?> SyncHostAsync(string host, CancellationToken ct)
    {
        var uuid = await _client.FindProviderAsync(host, ct);
        if (uuid is null)
        {
            ServerLog.PlacementNoProvider(_logger, host);
            return null;
        }

        var desired = await DesiredAsync(host, ct);
        foreach (var t in desired)
        {
            if (!_ensuredTraits.ContainsKey(t))
            {
                await _client.EnsureTraitAsync(t, ct);
                _ensuredTraits.TryAdd(t, 0);
            }
        }

        for (var attempt = 0; ; attempt++)
        {
            var current = await _client.GetTraitsAsync(uuid, ct);
            var next = new SortedSet<string>(current.Traits.Where(t => !PlacementTraits.IsOurs(t)), StringComparer.Ordinal);
            next.UnionWith(desired);
            if (next.SetEquals(current.Traits))
            {
                Interlocked.Increment(ref _syncs);
                return [.. next];
            }

            if (await _client.PutTraitsAsync(uuid, next, current.Generation, ct))
            {
                Interlocked.Increment(ref _syncs);
                ServerLog.PlacementSynced(_logger, host, string.Join(",", desired));
                return [.. next];
            }

            if (attempt >= MaxConflictRetries)
            {
                throw new PlacementException($"resource provider {uuid} ({host}): generation conflict {MaxConflictRetries} times in a row");
            }
        }
    }

    private async Task<SortedSet<string>> DesiredAsync(string host, CancellationToken ct)
    {
        var record = await _store.GetHostAsync(host, ct);
        if (record is null)
        {
            return PlacementTraits.Desired(false, new Dictionary<string, string>(), []);
        }

        var latest = await _store.GetLatestReportAsync(host, ct);
        var now = _time.GetUtcNow();
        var trusted = latest is not null && latest.ValidTo > now && latest.ValidFrom <= now && latest.Trust == "trusted";
        var pools = trusted ? TrustReportJson.Parse(latest!.PayloadJson).Pools.Where(p => p.Trust == TrustLevel.Trusted).Select(p => p.Pool).ToList() : [];
        var tags = JsonSerializer.Deserialize<Dictionary<string, string>>(record.TagsJson) ?? [];
        return PlacementTraits.Desired(trusted, tags, pools);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        foreach (var t in new[] { _worker, _reconciler })
        {
            if (t is not null)
            {
                try
                {
                    await t;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        _stop.Dispose();
        _client.Dispose();
    }
}
