using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using TrustPool.Scheduling;
using TrustPool.Server.Api;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Placements;

/// <summary>
/// <c>/v1/placements</c>, <c>/v1/evacuations</c> (GET reads the plan, POST records it), <c>PUT /v1/hosts/{name}/inventory</c>: native placement with the
/// scheduler's explanation. The handlers parse, make one <see cref="PlacementService"/> call and serialize.
/// </summary>
public static class PlacementEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/placements", PlaceAsync).RequireRole(Role.Operator).WithName("Place")
            .Accepts<PlaceWorkloadRequest>("application/json").WithProblems(400, 409, 413);
        v1.MapGet("/placements", ListAsync).RequireRole(Role.Reader).WithName("ListPlacements")
            .WithProblems(400);
        v1.MapGet("/placements/{id}", GetAsync).RequireRole(Role.Reader).WithName("GetPlacement")
            .WithProblems(404);
        v1.MapDelete("/placements/{id}", ReleaseAsync).RequireRole(Role.Operator).WithName("ReleasePlacement")
            .WithProblems(404);
        v1.MapGet("/evacuations", EvacuationsAsync).RequireRole(Role.Reader).WithName("Evacuations");
        v1.MapPost("/evacuations", PlanEvacuationsAsync).RequireRole(Role.Operator).WithName("PlanEvacuations");
        v1.MapPut("/hosts/{name}/inventory", SetInventoryAsync).RequireRole(Role.Operator).WithName("SetHostInventory")
            .Accepts<SetHostInventoryRequest>("application/json").WithProblems(400, 404, 413);
    }

    /// <summary>
    /// <c>201</c> with the placement, or <c>409</c> <c>no-valid-host</c> / <c>report-expired</c> carrying the decision
    /// (its explanation) as the <c>decision</c> extension.
    /// </summary>
    private static async Task<Results<Created<PlacementView>, ProblemHttpResult>> PlaceAsync(HttpContext http, ServerContext s)
    {
        WorkloadRequest request;
        using (var body = await JsonBody.ReadAsync(http.Request))
        {
            request = WorkloadJson.Parse(JsonNode.Parse(body.Root.GetRawText())!);
        }

        var outcome = await s.Placements.PlaceAsync(request, RoleFilter.ActorOf(http), http.RequestAborted);
        var decision = new Dictionary<string, object?> { ["decision"] = outcome.Explanation };
        return outcome.Refusal switch
        {
            PlacementRefusal.NoValidHost => Problems.Result(409, ServiceErrors.NoValidHost,
                $"no host satisfies '{request.Name}': {outcome.Decision.Explain()}", extensions: decision),
            PlacementRefusal.ReportExpired => Problems.Result(409, ServiceErrors.ReportExpired,
                $"the report of {outcome.Decision.Host} expired during the decision; ask again", extensions: decision),
            _ => TypedResults.Created($"/v1/placements/{outcome.Placement!.Id}", PlacementView.From(outcome.Placement)),
        };
    }

    private static async Task<Ok<PlacementList>> ListAsync(HttpContext http, ServerContext s, string? host, bool? all) =>
        TypedResults.Ok(new PlacementList([.. (await s.Placements.ListAsync(host, all ?? false, http.RequestAborted)).Select(PlacementView.From)]));

    private static async Task<Ok<PlacementView>> GetAsync(HttpContext http, ServerContext s, string id) =>
        TypedResults.Ok(PlacementView.From(await s.Placements.GetAsync(id, http.RequestAborted)));

    private static async Task<NoContent> ReleaseAsync(HttpContext http, ServerContext s, string id)
    {
        await s.Placements.ReleaseAsync(id, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.NoContent();
    }

    /// <summary>The current evacuation plan. A read: it records nothing.</summary>
    private static async Task<Ok<EvacuationPlanView>> EvacuationsAsync(HttpContext http, ServerContext s) =>
        TypedResults.Ok(await s.Placements.PlanEvacuationsAsync(http.RequestAborted));

    /// <summary>The same plan, recorded (<c>evacuation.planned</c>, with who asked).</summary>
    private static async Task<Ok<EvacuationPlanView>> PlanEvacuationsAsync(HttpContext http, ServerContext s) =>
        TypedResults.Ok(await s.Placements.RecordEvacuationsAsync(RoleFilter.ActorOf(http), http.RequestAborted));

    private static async Task<Ok<HostInventory>> SetInventoryAsync(HttpContext http, ServerContext s, string name)
    {
        HostInventory inventory;
        using (var body = await JsonBody.ReadAsync(http.Request))
        {
            inventory = HostInventory.Parse(body);
        }

        return TypedResults.Ok(await s.Placements.SetInventoryAsync(name, inventory, RoleFilter.ActorOf(http), http.RequestAborted));
    }
}
