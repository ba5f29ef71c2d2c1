using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TrustPool.Server.Api;

/// <summary>
/// The source-generated System.Text.Json contexts of the <c>/v1</c> contracts (Api/Contracts), used for request and
/// response bodies and by the OpenAPI document's schemas. Each area's context is listed once in <see cref="Resolvers"/>.
/// </summary>
public static class ApiJson
{
    /// <summary>Every contract context, first match wins; reflection stays last for anything not (yet) listed.</summary>
    public static IReadOnlyList<IJsonTypeInfoResolver> Resolvers { get; } =
    [
        Contracts.PlacementJsonContext.Default,
        Contracts.AdminJsonContext.Default,
        Contracts.BaselineJsonContext.Default,
        Contracts.PoolJsonContext.Default,
        Contracts.AuditJsonContext.Default,
        Contracts.HostJsonContext.Default,
        Contracts.ReportJsonContext.Default,
    ];

    /// <summary>Puts the contract contexts at the front of the service's HTTP JSON options.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        for (var i = Resolvers.Count - 1; i >= 0; i--)
        {
            options.TypeInfoResolverChain.Insert(0, Resolvers[i]);
        }
    }
}
