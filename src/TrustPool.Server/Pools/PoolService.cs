using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Pools;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Pools;

/// <summary>
/// Trusted compute pools: create, new versions, delete, and the reads of the API (with the hosts trusted in each).
/// Every change is one store transaction carrying its <c>pool.changed</c> record; the policy cache is invalidated
/// (which asks for reattestation of trusted hosts) only once it committed.
/// </summary>
public sealed class PoolService(ServerContext s)
{
    /// <summary>Creates <paramref name="pool"/> (version 1); a conflict if the name exists.</summary>
    public async Task<PoolView> CreateAsync(Pool pool, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(pool);
        await CheckBaselinesAsync(pool, ct);
        if (await s.Store.GetPoolAsync(pool.Name, ct) is not null)
        {
            throw ServiceException.Conflict($"pool '{pool.Name}' exists; PUT /v1/pools/{pool.Name} changes it");
        }

        var version = await SaveAsync(pool, actor, ct);
        return PoolView.From(pool with { Version = version }, []);
    }

    /// <summary>
    /// A new version of the existing pool <paramref name="name"/>. The document is read (by <paramref name="readDocument"/>)
    /// only once the pool is known to exist, so a missing one is "not found" whatever the body says.
    /// </summary>
    public async Task<PoolView> UpdateAsync(string name, Func<Task<Pool>> readDocument, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(readDocument);
        _ = await s.Store.GetPoolAsync(name, ct) ?? throw ServiceException.NotFound($"pool '{name}'");
        var pool = await readDocument();
        await CheckBaselinesAsync(pool, ct);
        if (pool.Name != name)
        {
            throw ServiceException.Invalid("name", $"the document is '{pool.Name}', the URL '{name}'");
        }

        var version = await SaveAsync(pool, actor, ct);
        return PoolView.From(pool with { Version = version }, []);
    }

    public async Task DeleteAsync(string name, Actor? actor, CancellationToken ct)
    {
        await using var tx = await s.Store.BeginAsync(ct);
        if (!await tx.DeletePoolAsync(name))
        {
            throw ServiceException.NotFound($"pool '{name}'");
        }

        tx.Audit(AuditRecords.PoolChanged("deleted", name, null, null, s.Now, actor));
        tx.OnCommitted(s.Policy.Invalidate);
        await tx.CommitAsync();
    }

    public async Task<PoolList> ListAsync(CancellationToken ct)
    {
        var pools = await s.Store.ListPoolsAsync(ct);
        var members = await MembersAsync(ct);
        return new PoolList([.. pools.Select(r =>
        {
            var p = PoolJson.ParseStored(r.DocumentJson) with { Version = r.Version };
            return PoolView.From(p, members.GetValueOrDefault(p.Name) ?? []);
        })]);
    }

    public async Task<PoolView> ShowAsync(string name, CancellationToken ct)
    {
        var r = await s.Store.GetPoolAsync(name, ct) ?? throw ServiceException.NotFound($"pool '{name}'");
        var members = await MembersAsync(ct);
        return PoolView.From(PoolJson.ParseStored(r.DocumentJson) with { Version = r.Version }, members.GetValueOrDefault(name) ?? []);
    }

    /// <summary>A pool naming a baseline that does not exist could never be satisfied: refuse it now, not at every attestation.</summary>
    private async Task CheckBaselinesAsync(Pool pool, CancellationToken ct)
    {
        var baselines = await s.Store.ListBaselinesAsync(ct);
        var known = baselines.ToDictionary(b => b.Name, b => b.Kind, StringComparer.Ordinal);
        void Check(string field, IEnumerable<string> names, string kind)
        {
            foreach (var n in names)
            {
                if (!known.TryGetValue(n, out var k))
                {
                    throw ServiceException.Refused(ServiceErrors.UnknownBaseline, $"require.{field}: baseline '{n}' does not exist", $"require.{field}");
                }

                if (k != kind)
                {
                    throw ServiceException.Refused(ServiceErrors.WrongBaselineKind, $"require.{field}: baseline '{n}' is a {k} baseline", $"require.{field}");
                }
            }
        }

        Check("platform", pool.Require.Platform, "platform");
        Check("os", pool.Require.Os, "os");
        Check("software", pool.Require.Software, "software");
        Check("hostUnique", pool.Require.HostUnique, "host-unique");
    }

    private async Task<int> SaveAsync(Pool pool, Actor? actor, CancellationToken ct)
    {
        await using var tx = await s.Store.BeginAsync(ct);
        var document = PoolJson.Serialize(pool);
        var version = await tx.UpsertPoolAsync(new PoolRecord(pool.Name, 0, document, s.Now));
        tx.Audit(AuditRecords.PoolChanged(version == 1 ? "created" : "changed", pool.Name, version, document, s.Now, actor));
        tx.OnCommitted(s.Policy.Invalidate);
        await tx.CommitAsync();
        return version;
    }

    /// <summary>Per pool, the hosts whose current (unexpired) report says trusted in it.</summary>
    private async Task<Dictionary<string, List<string>>> MembersAsync(CancellationToken ct)
    {
        var members = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (host, report) in await s.Store.GetLatestReportsAsync(ct))
        {
            if (report.ValidTo <= s.Now)
            {
                continue;
            }

            foreach (var p in TrustReportJson.Parse(report.PayloadJson).Pools)
            {
                if (p.Trust == TrustLevel.Trusted)
                {
                    (members.TryGetValue(p.Pool, out var l) ? l : members[p.Pool] = []).Add(host);
                }
            }
        }

        return members;
    }
}
