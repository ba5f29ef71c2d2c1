using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Attestation.Reports;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/reports</c> and <c>/v1/keys</c>: signed trust reports and the key that verifies them.</summary>
public static class ReportEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapGet("/reports/{id}", GetAsync).RequireRole(Role.Reader).WithName("GetReport");
        v1.MapPost("/reports/verify", VerifyAsync).RequireRole(Role.Reader).WithName("VerifyReport");
        // Public keys are public: anyone holding a report can check it.
        v1.MapGet("/keys", (ServerContext s) => Results.Content(s.Signer.JwksJson(), "application/jwk-set+json")).WithName("ReportKeys");
    }

    /// <summary>A stored report as the API returns it: the signed payload's fields plus the compact JWS itself.</summary>
    public static JsonObject ReportNode(ReportRecord r)
    {
        var node = JsonNode.Parse(r.PayloadJson)!.AsObject();
        node["jws"] = r.Jws;
        return node;
    }

    private static async Task<IResult> GetAsync(HttpContext http, ServerContext s, string id)
    {
        if (id.Length > 64)
        {
            throw ServiceException.Invalid("id", "is not a report id");
        }

        var r = await s.Store.GetReportAsync(id, http.RequestAborted) ?? throw ServiceException.NotFound($"report '{id}'");
        var node = ReportNode(r);
        // A report of a removed host, or of an earlier enrollment of its name, is history: its current trust is unknown.
        var host = await s.Store.GetHostAsync(r.Host, http.RequestAborted);
        node["currentTrust"] = (IsCurrentEnrollment(host, r.Enrollment) ? s.Attestations.CurrentTrust(r) : TrustPool.Attestation.TrustLevel.Unknown)
            .ToString().ToLowerInvariant();
        return Results.Json(node);
    }

    /// <summary>Checks a report's signature with this service's key and says whether it is still inside its validity window.</summary>
    private static async Task<IResult> VerifyAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var jws = body.RequiredString("jws", 1 << 20);
        using var key = ECDsa.Create();
        key.ImportFromPem(s.Signer.PublicKeyPem());
        try
        {
            var report = ReportJws.Verify(jws, key);
            var now = s.Now;
            var fresh = report.ValidFrom <= now && now < report.ValidTo;
            var enrolled = IsCurrentEnrollment(await s.Store.GetHostAsync(report.Host, http.RequestAborted), report.Enrollment);
            return Results.Json(new JsonObject
            {
                ["valid"] = true,
                ["current"] = fresh && enrolled,
                ["reason"] = !fresh ? "ReportExpired: the report is outside its validity window"
                    : !enrolled ? $"NotCurrentEnrollment: host '{report.Host}' was removed or enrolled again since this report" : null,
                ["report"] = JsonNode.Parse(TrustPool.Attestation.Evaluation.TrustReportJson.Serialize(report)),
            });
        }
        catch (ReportSignatureException e)
        {
            return Results.Json(new JsonObject { ["valid"] = false, ["current"] = false, ["reason"] = e.Message });
        }
    }

    /// <summary>True when <paramref name="enrollment"/> (a report's) is the current enrollment of <paramref name="host"/>.</summary>
    public static bool IsCurrentEnrollment(HostRecord? host, string? enrollment) =>
        host?.EnrollmentId is { } current && enrollment is not null && string.Equals(current, enrollment, StringComparison.Ordinal);
}
