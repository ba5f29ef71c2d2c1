using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/reports</c> and <c>/v1/keys</c>: signed trust reports and the key that verifies them.</summary>
public static class ReportEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapGet("/reports/{id}", GetAsync).RequireRole(Role.Reader).WithName("GetReport").WithProblems(400, 404);
        v1.MapPost("/reports/verify", VerifyAsync).RequireRole(Role.Reader).WithName("VerifyReport")
            .Accepts<VerifyReportRequest>("application/json").WithProblems(400, 413);
        // Public keys are public: anyone holding a report can check it. The signer writes the JWK Set itself (its
        // content type is application/jwk-set+json); JwkSet is its schema. No token, no input: only
        // the service's own failure (500, urn:trustpool:service:internal) is an error.
        v1.MapGet("/keys", (ServerContext s) => Results.Content(s.Signer.JwksJson(), "application/jwk-set+json")).WithName("ReportKeys")
            .Produces<JwkSet>(StatusCodes.Status200OK, "application/jwk-set+json").WithProblems(500);
    }

    private static async Task<Ok<ReportView>> GetAsync(HttpContext http, ServerContext s, string id) =>
        TypedResults.Ok(await s.Reports.GetAsync(id, http.RequestAborted));

    /// <summary>Checks a report's signature with this service's key and says whether it is still inside its validity window.</summary>
    private static async Task<Ok<VerifyReportResult>> VerifyAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var request = VerifyReportRequest.Parse(body);
        return TypedResults.Ok(await s.Reports.VerifyAsync(request.Jws, http.RequestAborted));
    }
}
