using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Pools;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/pools</c>: trusted compute pools (which baselines and tags a host must match).</summary>
public static class PoolEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/pools", CreateAsync).RequireRole(Role.Operator).WithName("CreatePool");
        v1.MapGet("/pools", ListAsync).RequireRole(Role.Reader).WithName("ListPools");
        v1.MapGet("/pools/{name}", ShowAsync).RequireRole(Role.Reader).WithName("ShowPool");
        v1.MapPut("/pools/{name}", UpdateAsync).RequireRole(Role.Operator).WithName("UpdatePool");
        v1.MapDelete("/pools/{name}", DeleteAsync).RequireRole(Role.Operator).WithName("DeletePool");
    }

    private static async Task<IResult> CreateAsync(HttpContext http, ServerContext s)
    {
        var pool = await ReadAsync(http, s);
        if (await s.Store.GetPoolAsync(pool.Name, http.RequestAborted) is not null)
        {
            throw ServiceException.Conflict($"pool '{pool.Name}' exists; PUT /v1/pools/{pool.Name} changes it");
        }

        var version = await SaveAsync(s, pool, RoleFilter.ActorOf(http), http.RequestAborted);
        return Results.Created($"/v1/pools/{pool.Name}", View(pool with { Version = version }, []));
    }

    private static async Task<IResult> UpdateAsync(HttpContext http, ServerContext s, string name)
    {
        _ = await s.Store.GetPoolAsync(name, http.RequestAborted) ?? throw ServiceException.NotFound($"pool '{name}'");
        var pool = await ReadAsync(http, s);
        if (pool.Name != name)
        {
            throw ServiceException.Invalid("name", $"the document is '{pool.Name}', the URL '{name}'");
        }

        var version = await SaveAsync(s, pool, RoleFilter.ActorOf(http), http.RequestAborted);
        return Results.Ok(View(pool with { Version = version }, []));
    }

    private static async Task<Pool> ReadAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        Pool pool;
        try
        {
            pool = PoolJson.Parse(body.Root.GetRawText());
        }
        catch (PoolFormatException e)
        {
            throw ServiceException.Invalid(e.Field, e.Message);
        }

        // A pool naming a baseline that does not exist could never be satisfied: refuse it now, not at every attestation.
        var baselines = await s.Store.ListBaselinesAsync(http.RequestAborted);
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
        return pool;
    }

    private static async Task<int> SaveAsync(ServerContext s, Pool pool, Actor? actor, CancellationToken ct)
    {
        int version;
        await using (var tx = await s.Store.BeginAsync(ct))
        {
            var document = PoolJson.Serialize(pool);
            version = await tx.UpsertPoolAsync(new PoolRecord(pool.Name, 0, document, s.Now));
            tx.Audit(AuditRecords.PoolChanged(version == 1 ? "created" : "changed", pool.Name, version, document, s.Now, actor));
            await tx.CommitAsync();
        }

        s.Policy.Invalidate();
        return version;
    }

    private static async Task<IResult> ListAsync(HttpContext http, ServerContext s)
    {
        var pools = await s.Store.ListPoolsAsync(http.RequestAborted);
        var members = await MembersAsync(s, http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["pools"] = new JsonArray([.. pools.Select(r =>
            {
                var p = PoolJson.ParseStored(r.DocumentJson) with { Version = r.Version };
                return (JsonNode)View(p, members.GetValueOrDefault(p.Name) ?? []);
            })]),
        });
    }

    private static async Task<IResult> ShowAsync(HttpContext http, ServerContext s, string name)
    {
        var r = await s.Store.GetPoolAsync(name, http.RequestAborted) ?? throw ServiceException.NotFound($"pool '{name}'");
        var members = await MembersAsync(s, http.RequestAborted);
        return Results.Json(View(PoolJson.ParseStored(r.DocumentJson) with { Version = r.Version }, members.GetValueOrDefault(name) ?? []));
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, ServerContext s, string name)
    {
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        if (!await tx.DeletePoolAsync(name))
        {
            throw ServiceException.NotFound($"pool '{name}'");
        }

        tx.Audit(AuditRecords.PoolChanged("deleted", name, null, null, s.Now, RoleFilter.ActorOf(http)));
        await tx.CommitAsync();
        s.Policy.Invalidate();
        return Results.NoContent();
    }

    /// <summary>Per pool, the hosts whose current (unexpired) report says trusted in it.</summary>
    private static async Task<Dictionary<string, List<string>>> MembersAsync(ServerContext s, CancellationToken ct)
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
                if (p.Trust == TrustPool.Attestation.TrustLevel.Trusted)
                {
                    (members.TryGetValue(p.Pool, out var l) ? l : members[p.Pool] = []).Add(host);
                }
            }
        }

        return members;
    }

    private static JsonObject View(Pool p, List<string> trustedHosts)
    {
        var node = JsonNode.Parse(PoolJson.Serialize(p))!.AsObject();
        node["version"] = p.Version;
        node["trustedHosts"] = new JsonArray([.. trustedHosts.Order(StringComparer.Ordinal).Select(h => (JsonNode)h!)]);
        return node;
    }
}
