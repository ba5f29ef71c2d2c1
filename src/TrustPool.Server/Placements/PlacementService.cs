using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Scheduling;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Placements;

/// <summary>Why a placement was not recorded although the request was valid.</summary>
public enum PlacementRefusal
{
    /// <summary>Recorded: <see cref="PlacementOutcome.Placement"/> is set.</summary>
    None,

    /// <summary>No host passed every filter.</summary>
    NoValidHost,

    /// <summary>The chosen host's report expired during the decision; ask again.</summary>
    ReportExpired,
}

/// <summary>
/// The outcome of <see cref="PlacementService.PlaceAsync"/>: the scheduler's decision and its explanation, and either
/// the recorded placement or why none was recorded. The HTTP edge maps a refusal to its problem.
/// </summary>
public sealed record PlacementOutcome(PlacementDecision Decision, PlacementDecisionView Explanation, PlacementRecord? Placement, PlacementRefusal Refusal);

/// <summary>
/// Native placement: decide, record (with its audit record), release, plan evacuations, set a host's inventory.
/// Decisions and recorded plans are serialized so two placements never count the same free capacity and a recorded
/// plan is the one the decisions saw.
/// </summary>
public sealed class PlacementService(ServerContext s)
{
    private static readonly SemaphoreSlim s_decisions = new(1, 1);

    /// <summary>Decides where <paramref name="request"/> goes and records the placement, unless refused.</summary>
    public async Task<PlacementOutcome> PlaceAsync(WorkloadRequest request, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        await s_decisions.WaitAsync(ct);
        try
        {
            var hosts = await HostViews.LoadAsync(s.Store, ct);
            var decision = s.Scheduler.Place(request, hosts, s.Now);
            var explanation = PlacementDecisionView.From(decision);
            if (!decision.Placed)
            {
                return new PlacementOutcome(decision, explanation, null, PlacementRefusal.NoValidHost);
            }

            // The report the decision relied on must still hold when the placement is recorded: a host whose report
            // expired during the decision is refused rather than used on stale trust.
            if (request.Trust == TrustRequirement.Required || request.Pools.Count > 0)
            {
                var now = s.Now;
                if (decision.ReportValidTo is not { } validTo || validTo <= now)
                {
                    return new PlacementOutcome(decision, explanation, null, PlacementRefusal.ReportExpired);
                }
            }

            var record = new PlacementRecord(Guid.NewGuid().ToString("N"), request.Name, decision.Host!, decision.ReportId,
                JsonSerializer.Serialize(WorkloadView.From(request), PlacementJsonContext.Default.WorkloadView),
                JsonSerializer.Serialize(explanation, PlacementJsonContext.Default.PlacementDecisionView), s.Now, null);
            await using (var tx = await s.Store.BeginAsync(ct))
            {
                await tx.InsertPlacementAsync(record);
                tx.Audit(AuditRecords.PlacementMade(record, actor));
                await tx.CommitAsync();
            }

            return new PlacementOutcome(decision, explanation, record, PlacementRefusal.None);
        }
        finally
        {
            s_decisions.Release();
        }
    }

    /// <summary>Active placements (all with <paramref name="all"/>), optionally of one host.</summary>
    public async Task<IReadOnlyList<PlacementRecord>> ListAsync(string? host, bool all, CancellationToken ct)
    {
        await using var tx = await s.Store.BeginAsync(ct);
        return await tx.ListPlacementsAsync(all, host);
    }

    /// <summary>One placement, released or not.</summary>
    public async Task<PlacementRecord> GetAsync(string id, CancellationToken ct)
    {
        await using var tx = await s.Store.BeginAsync(ct);
        return (await tx.ListPlacementsAsync(true, null, id)).FirstOrDefault() ?? throw ServiceException.NotFound($"placement '{id}'");
    }

    /// <summary>Releases an active placement (audited).</summary>
    public async Task ReleaseAsync(string id, Actor? actor, CancellationToken ct)
    {
        await using var tx = await s.Store.BeginAsync(ct);
        var placement = (await tx.ListPlacementsAsync(false, null, id)).FirstOrDefault();
        if (placement is null || !await tx.ReleasePlacementAsync(id, s.Now))
        {
            throw ServiceException.NotFound($"active placement '{id}'");
        }

        tx.Audit(AuditRecords.PlacementReleased(placement, actor, s.Now));
        await tx.CommitAsync();
    }

    /// <summary>
    /// The current evacuation plan, computed on the fly: for every host no longer trusted (or whose report expired, or
    /// removed), each trust-requiring workload there with a proposed new host. A read: it records nothing.
    /// </summary>
    public async Task<EvacuationPlanView> PlanEvacuationsAsync(CancellationToken ct) => EvacuationPlanView.From(await EvacuateAsync(ct));

    /// <summary>
    /// The same plan, decided and recorded: one <c>evacuation.planned</c> record (empty plan or not) with who asked, in
    /// the transaction that commits it. Serialized with placements so the plan recorded is the one the decisions saw.
    /// </summary>
    public async Task<EvacuationPlanView> RecordEvacuationsAsync(Actor? actor, CancellationToken ct)
    {
        await s_decisions.WaitAsync(ct);
        try
        {
            var plan = EvacuationPlanView.From(await EvacuateAsync(ct));
            await using (var tx = await s.Store.BeginAsync(ct))
            {
                // The plan as returned (as parsed JSON, so every value is plain JSON for the canonical encoding).
                var node = JsonNode.Parse(JsonSerializer.Serialize(plan, PlacementJsonContext.Default.EvacuationPlanView))!;
                tx.Audit(AuditRecords.EvacuationPlanned(node, actor, s.Now));
                await tx.CommitAsync();
            }

            return plan;
        }
        finally
        {
            s_decisions.Release();
        }
    }

    /// <summary>Replaces a host's operator-asserted inventory (audited with old and new values); returns what was stored.</summary>
    public async Task<HostInventory> SetInventoryAsync(string name, HostInventory inventory, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        await using var tx = await s.Store.BeginAsync(ct);
        var host = await tx.GetHostAsync(name);
        var json = inventory.ToJson();
        if (host is null || !await tx.UpdateHostInventoryAsync(name, json))
        {
            throw ServiceException.NotFound($"host '{name}'");
        }

        // Operator-asserted capacity and power decide placements: audited with old and new values.
        tx.Audit(AuditRecords.HostInventoryChanged(name, host.InventoryJson, json, actor, s.Now));
        await tx.CommitAsync();
        return inventory;
    }

    private async Task<EvacuationPlan> EvacuateAsync(CancellationToken ct)
    {
        // A removed host's workloads are on a host that is unknown now: they are planned like any other's.
        var hosts = await HostViews.LoadAsync(s.Store, ct, withRemovedHosts: true);
        return s.Scheduler.Evacuate(hosts, s.Now);
    }
}
