using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Pools;
using TrustPool.Server.Storage;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Attesting;

/// <summary>The pools and the latest version of every baseline, parsed once, and the PCR selection they need.</summary>
public sealed record Policy(IReadOnlyList<Pool> Pools, IReadOnlyDictionary<string, Baseline> Baselines, PcrSelection Selection)
{
    public Baseline? Baseline(string name) => Baselines.GetValueOrDefault(name);
}

/// <summary>
/// Keeps the current <see cref="Policy"/> in memory: a round of 10,000 attestations must not re-read and re-parse
/// every baseline for every host. Writers call <see cref="Invalidate"/> after committing a change; other service
/// instances sharing the database pick changes up within <see cref="MaxAge"/>.
/// </summary>
public sealed class PolicyCache
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private readonly ITrustStore _store;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private (Policy Policy, DateTimeOffset At)? _current;

    public PolicyCache(ITrustStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    /// <summary>Raised by <see cref="Invalidate"/>: a committed change to pools or baselines.</summary>
    public event Action? Invalidated;

    /// <summary>Called by writers after committing a change to pools or baselines.</summary>
    public void Invalidate()
    {
        _current = null;
        Invalidated?.Invoke();
    }

    public async ValueTask<Policy> GetAsync(CancellationToken ct)
    {
        if (_current is { } c && _time.GetUtcNow() - c.At < MaxAge)
        {
            return c.Policy;
        }

        await _loading.WaitAsync(ct);
        try
        {
            if (_current is { } again && _time.GetUtcNow() - again.At < MaxAge)
            {
                return again.Policy;
            }

            var at = _time.GetUtcNow();
            var policy = await LoadAsync(ct);
            _current = (policy, at);
            return policy;
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<Policy> LoadAsync(CancellationToken ct)
    {
        var baselines = new Dictionary<string, Baseline>(StringComparer.Ordinal);
        foreach (var r in await _store.ListBaselinesAsync(ct))
        {
            baselines[r.Name] = BaselineJson.Parse(r.DocumentJson) with { Version = r.Version };
        }

        var pools = new List<Pool>();
        foreach (var r in await _store.ListPoolsAsync(ct))
        {
            pools.Add(PoolJson.ParseStored(r.DocumentJson) with { Version = r.Version });
        }

        var selection = PoolSelection.Required(pools, n => baselines.GetValueOrDefault(n));
        return new Policy(pools, baselines, selection);
    }
}
