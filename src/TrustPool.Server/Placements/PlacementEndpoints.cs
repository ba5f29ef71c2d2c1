using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Scheduling;
using TrustPool.Server.Api;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Placements;

/// <summary>
/// <c>/v1/placements</c>, <c>/v1/evacuations</c> (GET reads the plan, POST records it), <c>PUT /v1/hosts/{name}/inventory</c>: native placement with the
/// scheduler's explanation. Decisions are serialized so two placements never count the same free capacity.
/// </summary>
public static class PlacementEndpoints
{
    private static readonly SemaphoreSlim s_decisions = new(1, 1);

    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/placements", PlaceAsync).RequireRole(Role.Operator).WithName("Place");
        v1.MapGet("/placements", ListAsync).RequireRole(Role.Reader).WithName("ListPlacements");
        v1.MapGet("/placements/{id}", GetAsync).RequireRole(Role.Reader).WithName("GetPlacement");
        v1.MapDelete("/placements/{id}", ReleaseAsync).RequireRole(Role.Operator).WithName("ReleasePlacement");
        v1.MapGet("/evacuations", EvacuationsAsync).RequireRole(Role.Reader).WithName("Evacuations");
        v1.MapPost("/evacuations", PlanEvacuationsAsync).RequireRole(Role.Operator).WithName("PlanEvacuations");
        v1.MapPut("/hosts/{name}/inventory", SetInventoryAsync).RequireRole(Role.Operator).WithName("SetHostInventory");
    }

    private static async Task<IResult> PlaceAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var request = WorkloadJson.Parse(JsonNode.Parse(body.Root.GetRawText())!);
        await s_decisions.WaitAsync(http.RequestAborted);
        try
        {
            var hosts = await HostViews.LoadAsync(s.Store, http.RequestAborted);
            var decision = s.Scheduler.Place(request, hosts, s.Now);
            var explanation = DecisionJson(decision);
            if (!decision.Placed)
            {
                return Problems.Result(409, "no-valid-host", $"no host satisfies '{request.Name}': {decision.Explain()}",
                    extensions: new Dictionary<string, object?> { ["decision"] = explanation });
            }

            // The report the decision relied on must still hold when the placement is recorded: a host whose report
            // expired during the decision is refused rather than used on stale trust.
            if (request.Trust == TrustRequirement.Required || request.Pools.Count > 0)
            {
                var now = s.Now;
                if (decision.ReportValidTo is not { } validTo || validTo <= now)
                {
                    return Problems.Result(409, "report-expired", $"the report of {decision.Host} expired during the decision; ask again",
                        extensions: new Dictionary<string, object?> { ["decision"] = explanation });
                }
            }

            var record = new PlacementRecord(Guid.NewGuid().ToString("N"), request.Name, decision.Host!, decision.ReportId,
                WorkloadJson.ToJson(request).ToJsonString(), explanation.ToJsonString(), s.Now, null);
            await using (var tx = await s.Store.BeginAsync(http.RequestAborted))
            {
                await tx.InsertPlacementAsync(record);
                tx.Audit(AuditRecords.PlacementMade(record, RoleFilter.ActorOf(http)));
                await tx.CommitAsync();
            }

            return Results.Created($"/v1/placements/{record.Id}", View(record));
        }
        finally
        {
            s_decisions.Release();
        }
    }

    private static async Task<IResult> ListAsync(HttpContext http, ServerContext s, string? host, bool? all)
    {
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        var list = await tx.ListPlacementsAsync(all ?? false, host);
        return Results.Json(new JsonObject { ["placements"] = new JsonArray([.. list.Select(p => (JsonNode)View(p))]) });
    }

    private static async Task<IResult> GetAsync(HttpContext http, ServerContext s, string id)
    {
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        var p = (await tx.ListPlacementsAsync(true, null, id)).FirstOrDefault() ?? throw ServiceException.NotFound($"placement '{id}'");
        return Results.Json(View(p));
    }

    private static async Task<IResult> ReleaseAsync(HttpContext http, ServerContext s, string id)
    {
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        var placement = (await tx.ListPlacementsAsync(false, null, id)).FirstOrDefault();
        if (placement is null || !await tx.ReleasePlacementAsync(id, s.Now))
        {
            throw ServiceException.NotFound($"active placement '{id}'");
        }

        tx.Audit(AuditRecords.PlacementReleased(placement, RoleFilter.ActorOf(http), s.Now));
        await tx.CommitAsync();
        return Results.NoContent();
    }

    /// <summary>
    /// The current evacuation plan, computed on the fly: for every host no longer trusted (or whose report expired, or
    /// removed), each trust-requiring workload there with a proposed new host. A read: it records nothing.
    /// </summary>
    private static async Task<IResult> EvacuationsAsync(HttpContext http, ServerContext s) =>
        Results.Json(PlanJson(await PlanAsync(s, http.RequestAborted)));

    /// <summary>
    /// The same plan, decided and recorded: one <c>evacuation.planned</c> record (empty plan or not) with who asked, in
    /// the transaction that commits it. Serialized with placements so the plan recorded is the one the decisions saw.
    /// </summary>
    private static async Task<IResult> PlanEvacuationsAsync(HttpContext http, ServerContext s)
    {
        await s_decisions.WaitAsync(http.RequestAborted);
        try
        {
            var result = PlanJson(await PlanAsync(s, http.RequestAborted));
            await using (var tx = await s.Store.BeginAsync(http.RequestAborted))
            {
                // The plan as returned (re-parsed so every value is plain JSON for the canonical encoding).
                tx.Audit(AuditRecords.EvacuationPlanned(JsonNode.Parse(result.ToJsonString())!, RoleFilter.ActorOf(http), s.Now));
                await tx.CommitAsync();
            }

            return Results.Json(result);
        }
        finally
        {
            s_decisions.Release();
        }
    }

    private static async Task<EvacuationPlan> PlanAsync(ServerContext s, CancellationToken ct)
    {
        // A removed host's workloads are on a host that is unknown now: they are planned like any other's.
        var hosts = await HostViews.LoadAsync(s.Store, ct, withRemovedHosts: true);
        return s.Scheduler.Evacuate(hosts, s.Now);
    }

    /// <summary>The one response shape of <c>GET</c> and <c>POST /v1/evacuations</c>.</summary>
    private static JsonObject PlanJson(EvacuationPlan plan) => new()
    {
        ["at"] = plan.At,
        ["items"] = new JsonArray([.. plan.Items.Select(i => (JsonNode)new JsonObject
        {
            ["placementId"] = i.Workload.Id,
            ["workload"] = i.Workload.Name,
            ["sourceHost"] = i.SourceHost,
            ["why"] = i.Why,
            ["proposedHost"] = i.ProposedHost,
            ["proposedReportId"] = i.ProposedReportId,
            ["problem"] = i.Problem,
        })]),
    };

    private static async Task<IResult> SetInventoryAsync(HttpContext http, ServerContext s, string name)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var inventory = HostInventory.Parse(body);
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        var host = await tx.GetHostAsync(name);
        if (host is null || !await tx.UpdateHostInventoryAsync(name, inventory.ToJson()))
        {
            throw ServiceException.NotFound($"host '{name}'");
        }

        // Operator-asserted capacity and power decide placements: audited with old and new values.
        tx.Audit(AuditRecords.HostInventoryChanged(name, host.InventoryJson, inventory.ToJson(), RoleFilter.ActorOf(http), s.Now));
        await tx.CommitAsync();
        return Results.Json(JsonNode.Parse(inventory.ToJson()));
    }

    public static JsonObject DecisionJson(PlacementDecision d) => new()
    {
        ["placed"] = d.Placed,
        ["host"] = d.Host,
        ["reportId"] = d.ReportId,
        ["reportValidTo"] = d.ReportValidTo,
        ["winner"] = d.Winner is null ? null : Weighed(d.Winner),
        ["candidates"] = new JsonArray([.. d.Candidates.Select(c => (JsonNode)Weighed(c))]),
        ["rejections"] = new JsonArray([.. d.Rejections.Select(r => (JsonNode)new JsonObject { ["host"] = r.Host, ["filter"] = r.Filter, ["reason"] = r.Reason })]),
    };

    private static JsonObject Weighed(WeighedHost w)
    {
        var weights = new JsonObject();
        foreach (var (k, v) in w.Weights)
        {
            weights[k] = v;
        }

        return new JsonObject { ["host"] = w.Host, ["total"] = w.Total, ["weights"] = weights };
    }

    private static JsonObject View(PlacementRecord p) => new()
    {
        ["id"] = p.Id,
        ["workload"] = p.Workload,
        ["host"] = p.Host,
        ["reportId"] = p.ReportId,
        ["createdAt"] = p.CreatedAt,
        ["releasedAt"] = p.ReleasedAt,
        ["request"] = JsonNode.Parse(p.RequestJson),
        ["decision"] = JsonNode.Parse(p.DecisionJson),
    };
}
