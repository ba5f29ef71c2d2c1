using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using TrustPool.Attestation.Baselines;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/baselines</c>: import from a known-good host, create/edit as JSON (each change a new version), list, export, delete.</summary>
public static class BaselineEndpoints
{
    /// <summary>Largest baseline document read (an IMA allowlist can be a few MiB).</summary>
    private const int MaxDocumentBytes = 16 << 20;

    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/baselines/import", ImportFromHostAsync).RequireRole(Role.Operator).WithName("ImportBaseline")
            .Accepts<ImportBaselineRequest>("application/json").WithProblems(400, 404, 409, 413, 422, 502);
        v1.MapPost("/baselines", CreateAsync).RequireRole(Role.Operator).WithName("CreateBaseline")
            .Accepts<BaselineDocument>("application/json").WithProblems(400, 409, 413);
        v1.MapGet("/baselines", ListAsync).RequireRole(Role.Reader).WithName("ListBaselines");
        v1.MapGet("/baselines/{name}", GetAsync).RequireRole(Role.Reader).WithName("GetBaseline").WithProblems(404);
        v1.MapGet("/baselines/{name}/versions", VersionsAsync).RequireRole(Role.Reader).WithName("BaselineVersions").WithProblems(404);
        v1.MapPut("/baselines/{name}", UpdateAsync).RequireRole(Role.Operator).WithName("UpdateBaseline")
            .Accepts<BaselineDocument>("application/json").WithProblems(400, 404, 409, 413);
        v1.MapDelete("/baselines/{name}", DeleteAsync).RequireRole(Role.Operator).WithName("DeleteBaseline").WithProblems(404, 409);
    }

    /// <summary>
    /// <c>{fromHost, kinds, name, template?}</c>: attests <c>fromHost</c> now with a fresh nonce and, only if its evidence
    /// verifies, derives one baseline per kind (named <c>name</c> for one kind, <c>name-KIND</c> for several), all in one transaction.
    /// </summary>
    private static async Task<Created<ImportBaselineResponse>> ImportFromHostAsync(HttpContext http, ServerContext s)
    {
        ImportBaselineRequest request;
        using (var body = await JsonBody.ReadAsync(http.Request))
        {
            request = ImportBaselineRequest.Parse(body);
        }

        var created = await s.Baselines.ImportAsync(request, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.Created("/v1/baselines", created);
    }

    private static async Task<Created<BaselineSummary>> CreateAsync(HttpContext http, ServerContext s)
    {
        var baseline = await ReadDocumentAsync(http);
        var summary = await s.Baselines.CreateAsync(baseline, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.Created($"/v1/baselines/{summary.Name}", summary);
    }

    private static async Task<Ok<BaselineSummary>> UpdateAsync(HttpContext http, ServerContext s, string name) =>
        TypedResults.Ok(await s.Baselines.UpdateAsync(name, () => ReadDocumentAsync(http), RoleFilter.ActorOf(http), http.RequestAborted));

    /// <summary>A baseline document, checked by BaselineJson (its errors name the field).</summary>
    private static async Task<Baseline> ReadDocumentAsync(HttpContext http)
    {
        using var body = await JsonBody.ReadAsync(http.Request, MaxDocumentBytes);
        try
        {
            return BaselineJson.Parse(body.Root.GetRawText());
        }
        catch (BaselineFormatException e)
        {
            throw ServiceException.Invalid(e.Field, e.Message);
        }
    }

    private static async Task<Ok<BaselineList>> ListAsync(HttpContext http, ServerContext s) =>
        TypedResults.Ok(await s.Baselines.ListAsync(http.RequestAborted));

    /// <summary>The baseline document (export), latest or <c>?version=N</c>; importable as is with POST /v1/baselines.</summary>
    private static async Task<Ok<BaselineDocument>> GetAsync(HttpContext http, ServerContext s, string name, int? version)
    {
        var (document, digest) = await s.Baselines.GetAsync(name, version, http.RequestAborted);
        http.Response.Headers["X-TrustPool-Digest"] = digest;
        return TypedResults.Ok(document);
    }

    private static async Task<Ok<BaselineVersionList>> VersionsAsync(HttpContext http, ServerContext s, string name) =>
        TypedResults.Ok(await s.Baselines.VersionsAsync(name, http.RequestAborted));

    private static async Task<NoContent> DeleteAsync(HttpContext http, ServerContext s, string name)
    {
        await s.Baselines.DeleteAsync(name, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.NoContent();
    }
}
