using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using TrustPool.Audit.Compliance;
using TrustPool.Server.Api.Contracts;
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
        v1.MapGet("/audit/checkpoint", CheckpointAsync).RequireRole(Role.Reader).WithName("AuditCheckpoint")
            .Produces<string>(200, "text/plain");
        v1.MapGet("/audit/checkpoints", CheckpointsAsync).RequireRole(Role.Reader).WithName("AuditCheckpoints");
        v1.MapGet("/audit/proof/inclusion", InclusionAsync).RequireRole(Role.Reader).WithName("AuditInclusionProof").WithProblems(400);
        v1.MapGet("/audit/proof/consistency", ConsistencyAsync).RequireRole(Role.Reader).WithName("AuditConsistencyProof").WithProblems(400);
        v1.MapGet("/audit/entries", EntriesAsync).RequireRole(Role.Reader).WithName("AuditEntries").WithProblems(400);
        // The schema is the JSON variant's; format=html answers the same report as a text/html page.
        v1.MapGet("/audit/compliance", ComplianceAsync).RequireRole(Role.Reader).WithName("AuditComplianceReport")
            .WithDescription("The compliance report as JSON, or with format=html as a readable text/html page.").WithProblems(400);
        v1.MapGet("/audit/key", (ServerContext s) => TypedResults.Text(Log(s).PublicKeyPem, "application/x-pem-file"))
            .RequireRole(Role.Reader).WithName("AuditKey").Produces<string>(200, "application/x-pem-file");
    }

    /// <summary>
    /// The compliance report of a workload (<c>?workload=W</c>) or of a host over an interval
    /// (<c>?host=H&amp;from=T1&amp;to=T2</c>, ISO 8601): JSON, or a readable page with <c>format=html</c>.
    /// </summary>
    private static async Task<Results<Ok<JsonObject>, ContentHttpResult>> ComplianceAsync(HttpContext http, ServerContext s, string? workload, string? host, string? from, string? to, string? format)
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
            return TypedResults.Ok(report);
        }

        http.Response.Headers.ContentSecurityPolicy = ComplianceHtml.ContentSecurityPolicy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Content(ComplianceHtml.Render(report), "text/html; charset=utf-8");
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
    private static async Task<ContentHttpResult> CheckpointAsync(HttpContext http, ServerContext s)
    {
        var cp = await Log(s).CheckpointAsync(s.Store, http.RequestAborted);
        return TypedResults.Text(cp.Note, "text/plain; charset=utf-8");
    }

    private static async Task<Ok<AuditCheckpointList>> CheckpointsAsync(HttpContext http, ServerContext s)
    {
        var log = Log(s);
        var list = await AuditLog.ReadCheckpointsAsync(s.Store, http.RequestAborted);
        return TypedResults.Ok(new AuditCheckpointList(log.Origin, log.Signer.KeyName, log.PublicKeyPem, [.. list.Select(c => new AuditCheckpointView(c.Size, c.Note))]));
    }

    private static async Task<Ok<AuditInclusionProof>> InclusionAsync(HttpContext http, ServerContext s, long? leaf, long? size)
    {
        var l = leaf ?? throw ServiceException.Invalid("leaf", "is required");
        var n = size ?? throw ServiceException.Invalid("size", "is required");
        var (leafHash, proof) = await Log(s).InclusionProofAsync(s.Store, l, n, http.RequestAborted);
        return TypedResults.Ok(new AuditInclusionProof(l, n, Convert.ToBase64String(leafHash), Hashes(proof)));
    }

    private static async Task<Ok<AuditConsistencyProof>> ConsistencyAsync(HttpContext http, ServerContext s, long? from, long? to)
    {
        var a = from ?? throw ServiceException.Invalid("from", "is required");
        var b = to ?? throw ServiceException.Invalid("to", "is required");
        var proof = await Log(s).ConsistencyProofAsync(s.Store, a, b, http.RequestAborted);
        return TypedResults.Ok(new AuditConsistencyProof(a, b, Hashes(proof)));
    }

    /// <summary>A bounded page of entries: the records exactly as stored (canonical JSON text) and their leaf hashes.</summary>
    private static async Task<Ok<AuditEntryPage>> EntriesAsync(HttpContext http, ServerContext s, long? from, long? to)
    {
        var start = from ?? 0;
        var (leaves, size) = await AuditLog.ReadEntriesAsync(s.Store, start, to, http.RequestAborted);
        return TypedResults.Ok(new AuditEntryPage(size, start, start + leaves.Count,
            [.. leaves.Select(l => new AuditEntryView(l.Index, l.Type, l.RecordJson, Convert.ToBase64String(l.LeafHash)))]));
    }

    private static string[] Hashes(byte[][] hashes) => [.. hashes.Select(Convert.ToBase64String)];
}
