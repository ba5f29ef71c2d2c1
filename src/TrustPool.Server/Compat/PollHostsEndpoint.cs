using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Server.Api;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Compat;

/// <summary>
/// OpenAttestation's <c>PollHosts</c>, as Nova's TrustedFilter (Folsom..Pike) calls it: <c>POST {prefix}/PollHosts</c>
/// with <c>{"count": N, "hosts": [...]}</c>, answered with each host's trust level and the verification time of the
/// report it came from (Nova expires the answer <c>attestation_auth_timeout</c> seconds after <c>vtime</c>).
/// </summary>
public static class PollHostsEndpoint
{
    public static readonly string[] Prefixes = ["/OpenAttestationWebServices/V1.0", "/AttestationService/resources"];

    private const int MaxHosts = 10_000;

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var prefix in Prefixes)
        {
            app.MapPost(prefix + "/PollHosts", PollAsync).WithName("PollHosts" + (prefix.Contains("OpenAttestation", StringComparison.Ordinal) ? "" : "Legacy"))
                .Accepts<PollHostsRequest>("application/json").Produces<PollHostsResponse>().WithProblems(400, 401, 403, 413);
        }
    }

    private static async Task<IResult> PollAsync(HttpContext http, ServerContext s)
    {
        // Nova passes its configured attestation_auth_blob as x-auth-blob: here it must be a TrustPool reader token.
        var blob = http.Request.Headers["x-auth-blob"].ToString();
        if (await RoleFilter.CheckAsync(http, string.IsNullOrEmpty(blob) ? null : blob, Role.Reader) is { } denied)
        {
            return denied;
        }

        using var body = await JsonBody.ReadAsync(http.Request);
        var names = ReadHosts(body.Root);
        var latest = await s.Store.GetLatestReportsAsync(http.RequestAborted);
        var hosts = new List<PollHostsHost>(names.Count);
        foreach (var name in names)
        {
            var report = latest.GetValueOrDefault(name);
            var trust = s.Attestations.CurrentTrust(report).ToString().ToLowerInvariant();
            // ISO 8601 with offset; for a host never attested, now (Nova treats the answer as fresh for unknown).
            hosts.Add(new PollHostsHost(name, trust, (report?.VerifiedAt ?? s.Now).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture)));
        }

        return TypedResults.Json(new PollHostsResponse(hosts), PollHostsJsonContext.Default.PollHostsResponse);
    }

    // Nova (Folsom) sends "hosts" as a bare string, later releases as a list.
    internal static List<string> ReadHosts(JsonElement root)
    {
        if (!root.TryGetProperty("hosts", out var hosts))
        {
            throw ServiceException.Invalid("hosts", "is required");
        }

        if (hosts.ValueKind == JsonValueKind.String)
        {
            return [Check(hosts.GetString()!)];
        }

        if (hosts.ValueKind != JsonValueKind.Array)
        {
            throw ServiceException.Invalid("hosts", "must be a host name or a list of host names");
        }

        if (hosts.GetArrayLength() > MaxHosts)
        {
            throw ServiceException.Invalid("hosts", $"more than {MaxHosts} hosts");
        }

        var list = new List<string>();
        foreach (var h in hosts.EnumerateArray())
        {
            if (h.ValueKind != JsonValueKind.String)
            {
                throw ServiceException.Invalid("hosts", "every host must be a string");
            }

            list.Add(Check(h.GetString()!));
        }

        return list;
    }

    private static string Check(string name) => name.Length is > 0 and <= 253 ? name : throw ServiceException.Invalid("hosts", "a host name must be 1..253 characters");
}

/// <summary>
/// OAT's PollHosts request as Nova sends it. <c>hosts</c> is a list of host names, or (Folsom) one bare name; the
/// service reads it by hand (<see cref="PollHostsEndpoint"/>), this record only describes it.
/// </summary>
/// <param name="Count">The number of hosts (Nova sends it; ignored).</param>
/// <param name="Hosts">The host names.</param>
public sealed record PollHostsRequest(
    [property: JsonPropertyName("count")] int? Count,
    [property: JsonPropertyName("hosts")] IReadOnlyList<string> Hosts);

/// <summary>OAT's PollHosts answer: exactly the field names Nova's TrustedFilter reads.</summary>
/// <param name="Hosts">One entry per host asked for, in the order asked.</param>
public sealed record PollHostsResponse([property: JsonPropertyName("hosts")] IReadOnlyList<PollHostsHost> Hosts);

/// <summary>One host's trust as OAT spells it.</summary>
/// <param name="HostName">The host name as asked.</param>
/// <param name="TrustLevel"><c>trusted</c>, <c>untrusted</c> or <c>unknown</c> (also for a host never enrolled).</param>
/// <param name="VerifyTime">The verification time of the report used, ISO 8601 with offset (now for a host never attested).</param>
public sealed record PollHostsHost(
    [property: JsonPropertyName("host_name")] string HostName,
    [property: JsonPropertyName("trust_lvl")] string TrustLevel,
    [property: JsonPropertyName("vtime")] string VerifyTime);

/// <summary>The source-generated JSON of the OAT PollHosts wire format (explicit names: snake_case, not the /v1 camelCase).</summary>
[JsonSourceGenerationOptions]
[JsonSerializable(typeof(PollHostsRequest))]
[JsonSerializable(typeof(PollHostsResponse))]
internal sealed partial class PollHostsJsonContext : JsonSerializerContext;
