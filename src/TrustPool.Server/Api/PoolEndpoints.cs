using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using TrustPool.Attestation.Pools;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/pools</c>: trusted compute pools (which baselines and tags a host must match).</summary>
public static class PoolEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/pools", CreateAsync).RequireRole(Role.Operator).WithName("CreatePool")
            .Accepts<PoolDocument>("application/json").WithProblems(400, 409, 413, 422);
        v1.MapGet("/pools", ListAsync).RequireRole(Role.Reader).WithName("ListPools");
        v1.MapGet("/pools/{name}", ShowAsync).RequireRole(Role.Reader).WithName("ShowPool").WithProblems(404);
        v1.MapPut("/pools/{name}", UpdateAsync).RequireRole(Role.Operator).WithName("UpdatePool")
            .Accepts<PoolDocument>("application/json").WithProblems(400, 404, 413, 422);
        v1.MapDelete("/pools/{name}", DeleteAsync).RequireRole(Role.Operator).WithName("DeletePool").WithProblems(404);
    }

    private static async Task<Created<PoolView>> CreateAsync(HttpContext http, ServerContext s)
    {
        var pool = await ReadDocumentAsync(http);
        var view = await s.Pools.CreateAsync(pool, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.Created($"/v1/pools/{view.Name}", view);
    }

    private static async Task<Ok<PoolView>> UpdateAsync(HttpContext http, ServerContext s, string name) =>
        TypedResults.Ok(await s.Pools.UpdateAsync(name, () => ReadDocumentAsync(http), RoleFilter.ActorOf(http), http.RequestAborted));

    /// <summary>A pool document, checked by PoolJson (its errors name the field).</summary>
    private static async Task<Pool> ReadDocumentAsync(HttpContext http)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        try
        {
            return PoolJson.Parse(body.Root.GetRawText());
        }
        catch (PoolFormatException e)
        {
            throw ServiceException.Invalid(e.Field, e.Message);
        }
    }

    private static async Task<Ok<PoolList>> ListAsync(HttpContext http, ServerContext s) =>
        TypedResults.Ok(await s.Pools.ListAsync(http.RequestAborted));

    private static async Task<Ok<PoolView>> ShowAsync(HttpContext http, ServerContext s, string name) =>
        TypedResults.Ok(await s.Pools.ShowAsync(name, http.RequestAborted));

    private static async Task<NoContent> DeleteAsync(HttpContext http, ServerContext s, string name)
    {
        await s.Pools.DeleteAsync(name, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.NoContent();
    }
}
