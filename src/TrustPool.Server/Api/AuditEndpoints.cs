using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Audit.Compliance;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Api;

/// <summary>
/// <c>/v1/audit</c>: signed tree heads (C2SP signed notes), inclusion and consistency proofs (RFC 9162, base64
/// hashes leaf-to-root), the stored entries and checkpoints, and the checkpoint-signing public key.
/// </summary>
public static class AuditEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapGet("/audit/checkpoint", CheckpointAsync).RequireRole(Role.Reader).WithName("AuditCheckpoint");
        v1.MapGet("/audit/checkpoints", CheckpointsAsync).RequireRole(Role.Reader).WithName("AuditCheckpoints");
        v1.MapGet("/audit/proof/inclusion", InclusionAsync).RequireRole(Role.Reader).WithName("AuditInclusionProof");
        v1.MapGet("/audit/proof/consistency", ConsistencyAsync).RequireRole(Role.Reader).WithName("AuditConsistencyProof");
        v1.MapGet("/audit/entries", EntriesAsync).RequireRole(Role.Reader).WithName("AuditEntries");
        v1.MapGet("/audit/compliance", ComplianceAsync).RequireRole(Role.Reader).WithName("AuditComplianceReport");
        v1.MapGet("/audit/key", (ServerContext s) => Results.Text(Log(s).PublicKeyPem, "application/x-pem-file")).RequireRole(Role.Reader).WithName("AuditKey");
    }

    /// <summary>
    /// The compliance report of a workload (<c>?workload=W</c>) or of a host over an interval
    /// (<c>?host=H&amp;from=T1&amp;to=T2</c>, ISO 8601): JSON, or a readable page with <c>format=html</c>.
    /// </summary>
    private static async Task<IResult> ComplianceAsync(HttpContext http, ServerContext s, string? workload, string? host, string? from, string? to, string? format)
    {
        var log = Log(s);
        var html = format switch
        {
            null or "json" => false,
            "html" => true,
            _ => throw ServiceException.Invalid("format", "must be json or html"),
        };
        var query = new ComplianceQuery(workload, host, Time(from, "from"), Time(to, "to"));
        var report = await ComplianceReport.BuildAsync(s.Store, log, query, s.Now, http.RequestAborted);
        if (!html)
        {
            return Results.Json(report);
        }

        http.Response.Headers.ContentSecurityPolicy = ComplianceHtml.ContentSecurityPolicy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Content(ComplianceHtml.Render(report), "text/html; charset=utf-8");
    }

    private static DateTimeOffset? Time(string? value, string field)
    {
        if (value is null)
        {
            return null;
        }

        return value.Length <= 64 && DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw ServiceException.Invalid(field, "must be an ISO 8601 time such as 2026-11-27T10:00:00Z");
    }

    private static AuditLog Log(ServerContext s) => s.Audit;

    /// <summary>The latest checkpoint as a signed note (text/plain), signing a new one when due.</summary>
    private static async Task<IResult> CheckpointAsync(HttpContext http, ServerContext s)
    {
        var cp = await Log(s).CheckpointAsync(s.Store, http.RequestAborted);
        return Results.Text(cp.Note, "text/plain; charset=utf-8");
    }

    private static async Task<IResult> CheckpointsAsync(HttpContext http, ServerContext s)
    {
        var log = Log(s);
        var list = await AuditLog.ReadCheckpointsAsync(s.Store, http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["origin"] = log.Origin,
            ["keyName"] = log.Signer.KeyName,
            ["publicKey"] = log.PublicKeyPem,
            ["checkpoints"] = new JsonArray([.. list.Select(c => (JsonNode)new JsonObject { ["size"] = c.Size, ["note"] = c.Note })]),
        });
    }

    private static async Task<IResult> InclusionAsync(HttpContext http, ServerContext s, long? leaf, long? size)
    {
        var l = leaf ?? throw ServiceException.Invalid("leaf", "is required");
        var n = size ?? throw ServiceException.Invalid("size", "is required");
        var (leafHash, proof) = await Log(s).InclusionProofAsync(s.Store, l, n, http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["leaf"] = l,
            ["size"] = n,
            ["leafHash"] = Convert.ToBase64String(leafHash),
            ["proof"] = Hashes(proof),
        });
    }

    private static async Task<IResult> ConsistencyAsync(HttpContext http, ServerContext s, long? from, long? to)
    {
        var a = from ?? throw ServiceException.Invalid("from", "is required");
        var b = to ?? throw ServiceException.Invalid("to", "is required");
        var proof = await Log(s).ConsistencyProofAsync(s.Store, a, b, http.RequestAborted);
        return Results.Json(new JsonObject { ["from"] = a, ["to"] = b, ["proof"] = Hashes(proof) });
    }

    /// <summary>A bounded page of entries: the records exactly as stored (canonical JSON text) and their leaf hashes.</summary>
    private static async Task<IResult> EntriesAsync(HttpContext http, ServerContext s, long? from, long? to)
    {
        _ = Log(s);
        var start = from ?? 0;
        var (leaves, size) = await AuditLog.ReadEntriesAsync(s.Store, start, to, http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["size"] = size,
            ["from"] = start,
            ["to"] = start + leaves.Count,
            ["entries"] = new JsonArray([.. leaves.Select(l => (JsonNode)new JsonObject
            {
                ["index"] = l.Index,
                ["type"] = l.Type,
                ["record"] = l.RecordJson,
                ["leafHash"] = Convert.ToBase64String(l.LeafHash),
            })]),
        });
    }

    private static JsonArray Hashes(byte[][] hashes) => new([.. hashes.Select(h => (JsonNode)JsonValue.Create(Convert.ToBase64String(h)))]);
}
