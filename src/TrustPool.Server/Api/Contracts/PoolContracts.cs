using System.Text.Json;
using System.Text.Json.Serialization;
using TrustPool.Attestation.Pools;

namespace TrustPool.Server.Api.Contracts;

/// <summary>What a host must match to be trusted in a pool (all-of per kind) plus the asset tags it must carry.</summary>
/// <param name="Platform">Names of <c>platform</c> baselines.</param>
/// <param name="Os">Names of <c>os</c> baselines.</param>
/// <param name="Software">Names of <c>software</c> (IMA allowlist) baselines.</param>
/// <param name="HostUnique">Names of <c>host-unique</c> baselines.</param>
/// <param name="Tags">Asset tags the host must carry (operator data, never attested), sorted by key.</param>
public sealed record PoolRequirementDocument(
    IReadOnlyList<string> Platform,
    IReadOnlyList<string> Os,
    IReadOnlyList<string> Software,
    IReadOnlyList<string> HostUnique,
    IReadOnlyDictionary<string, string> Tags)
{
    /// <summary>The JSON form of <paramref name="r"/> (PoolJson's order: lists as given, tags by key).</summary>
    public static PoolRequirementDocument From(PoolRequirement r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new([.. r.Platform], [.. r.Os], [.. r.Software], [.. r.HostUnique],
            r.Tags.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
    }
}

/// <summary>
/// A pool document (TrustPool.Attestation's PoolJson format): the body of <c>POST /v1/pools</c> and
/// <c>PUT /v1/pools/{name}</c>. The service checks it with PoolJson.Parse (errors name the field: a pool must require at
/// least one platform, os or hostUnique baseline) and refuses baselines that do not exist or are of another kind.
/// </summary>
/// <param name="Name">[A-Za-z0-9._-]{1,64}.</param>
/// <param name="Require">The rules; every list may be omitted or empty, tags too.</param>
/// <param name="Version">Ignored on write (the store numbers versions); 1 or more when given.</param>
public sealed record PoolDocument(string Name, PoolRequirementDocument Require, int? Version = null);

/// <summary>A pool as the API shows it: its document, stored version and the hosts currently trusted in it.</summary>
/// <param name="Name">The pool name.</param>
/// <param name="Version">The stored version (1 when created, each change adds one).</param>
/// <param name="Require">The rules.</param>
/// <param name="TrustedHosts">Hosts whose current (unexpired) report says trusted in this pool, sorted; empty in the answer to a change.</param>
public sealed record PoolView(string Name, int Version, PoolRequirementDocument Require, IReadOnlyList<string> TrustedHosts)
{
    /// <summary>The view of <paramref name="p"/> (its <see cref="Pool.Version"/> is the stored one).</summary>
    public static PoolView From(Pool p, IEnumerable<string> trustedHosts)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(p.Name, p.Version, PoolRequirementDocument.From(p.Require), [.. trustedHosts.Order(StringComparer.Ordinal)]);
    }
}

/// <summary><c>GET /v1/pools</c>.</summary>
/// <param name="Pools">Every pool, by name.</param>
public sealed record PoolList(IReadOnlyList<PoolView> Pools);

/// <summary>Source-generated JSON for the pool contracts (registered in <see cref="ApiJson"/>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PoolDocument))]
[JsonSerializable(typeof(PoolView))]
[JsonSerializable(typeof(PoolList))]
internal sealed partial class PoolJsonContext : JsonSerializerContext;
