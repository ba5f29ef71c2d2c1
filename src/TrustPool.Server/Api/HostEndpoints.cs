using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/hosts</c>: enroll, list, show, attest now, re-enroll, tags, reports, remove (the work is in <see cref="Hosts.HostService"/>).</summary>
public static class HostEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/hosts", EnrollAsync).RequireRole(Role.Operator).WithName("EnrollHost")
            .Accepts<EnrollHostRequest>("application/json").WithProblems(400, 409, 413, 422, 502);
        v1.MapGet("/hosts", ListAsync).RequireRole(Role.Reader).WithName("ListHosts");
        v1.MapGet("/hosts/{name}", ShowAsync).RequireRole(Role.Reader).WithName("ShowHost").WithProblems(404);
        v1.MapDelete("/hosts/{name}", RemoveAsync).RequireRole(Role.Operator).WithName("RemoveHost").WithProblems(404);
        v1.MapPost("/hosts/{name}/attest", AttestAsync).RequireRole(Role.Operator).WithName("AttestHost").WithProblems(404, 409, 502);
        v1.MapPost("/hosts/{name}/enroll", ReEnrollAsync).RequireRole(Role.Operator).WithName("ReEnrollHost")
            .Accepts<ReEnrollHostRequest>("application/json").WithProblems(400, 404, 409, 413, 422, 502);
        v1.MapPut("/hosts/{name}/tags", SetTagsAsync).RequireRole(Role.Operator).WithName("SetHostTags")
            .Accepts<SetHostTagsRequest>("application/json").WithProblems(400, 404, 413);
        v1.MapGet("/hosts/{name}/report", LatestReportAsync).RequireRole(Role.Reader).WithName("LatestReport").WithProblems(404);
        v1.MapGet("/hosts/{name}/reports", ReportHistoryAsync).RequireRole(Role.Reader).WithName("ReportHistory").WithProblems(400);
    }

    private static async Task<Created<HostView>> EnrollAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var host = await s.Hosts.EnrollAsync(EnrollHostRequest.Parse(body), RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.Created($"/v1/hosts/{host.Name}", host);
    }

    private static async Task<Ok<HostView>> ReEnrollAsync(HttpContext http, ServerContext s, string name)
    {
        // The host must exist before its body counts (404 before any 400), as before the service took the work.
        _ = await s.Store.GetHostAsync(name, http.RequestAborted) ?? throw ServiceException.NotFound($"host '{name}'");
        using var body = await JsonBody.ReadAsync(http.Request);
        return TypedResults.Ok(await s.Hosts.ReEnrollAsync(name, ReEnrollHostRequest.Parse(body), RoleFilter.ActorOf(http), http.RequestAborted));
    }

    private static async Task<Ok<HostListView>> ListAsync(HttpContext http, ServerContext s) =>
        TypedResults.Ok(await s.Hosts.ListAsync(http.RequestAborted));

    private static async Task<Ok<HostDetailView>> ShowAsync(HttpContext http, ServerContext s, string name) =>
        TypedResults.Ok(await s.Hosts.ShowAsync(name, http.RequestAborted));

    private static async Task<NoContent> RemoveAsync(HttpContext http, ServerContext s, string name)
    {
        await s.Hosts.RemoveAsync(name, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<ReportView>, ProblemHttpResult>> AttestAsync(HttpContext http, ServerContext s, string name)
    {
        var result = await s.Hosts.AttestAsync(name, http.RequestAborted);
        if (result.Report is not null)
        {
            return TypedResults.Ok(result.Report);
        }

        // The agent failed and the previous report still holds: say so, with the report that still applies.
        var failure = result.Failure!;
        var latest = result.Current;
        return Problems.Result(502, ServiceErrors.AgentPrefix + failure.Failure.ToString().ToLowerInvariant(), $"agent: {failure.Message}",
            extensions: new Dictionary<string, object?> { ["currentReportId"] = latest?.Id, ["currentTrust"] = latest?.Trust, ["validTo"] = latest?.ValidTo });
    }

    private static async Task<Ok<HostView>> SetTagsAsync(HttpContext http, ServerContext s, string name)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var request = SetHostTagsRequest.Parse(body);
        return TypedResults.Ok(await s.Hosts.SetTagsAsync(name, request.Tags, RoleFilter.ActorOf(http), http.RequestAborted));
    }

    private static async Task<Ok<ReportView>> LatestReportAsync(HttpContext http, ServerContext s, string name) =>
        TypedResults.Ok(await s.Hosts.LatestReportAsync(name, http.RequestAborted));

    private static async Task<Ok<ReportHistoryView>> ReportHistoryAsync(HttpContext http, ServerContext s, string name, int? limit, string? before)
    {
        var n = limit ?? 50;
        if (n is < 1 or > 1000)
        {
            throw ServiceException.Invalid("limit", "must be 1..1000");
        }

        DateTimeOffset? until = null;
        if (before is not null)
        {
            if (!DateTimeOffset.TryParse(before, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var b))
            {
                throw ServiceException.Invalid("before", "must be an ISO 8601 time");
            }

            until = b;
        }

        return TypedResults.Ok(await s.Hosts.ReportHistoryAsync(name, n, until, http.RequestAborted));
    }
}
