using System.Text.Json;
using System.Text.Json.Serialization;
using TrustPool.Scheduling;
using TrustPool.Server.Placements;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api.Contracts;

/// <summary>
/// <c>POST /v1/placements</c>: one workload to place. Parsed field by field (every bad field is a 400 naming it).
/// </summary>
/// <param name="Name">1..128 characters of letters, digits, '.', '_' or '-'.</param>
/// <param name="Resources">What the workload needs of a host's capacity.</param>
/// <param name="Trust"><c>required</c> (the default), <c>preferred</c> or <c>any</c>.</param>
/// <param name="Pools">Trusted compute pools the host must be trusted in (at most 64).</param>
/// <param name="Tags">Tag requirements: <c>key=value</c> must be present, <c>!key=value</c> must not (at most 64).</param>
/// <param name="AffinityGroup">Place on a host that already runs a workload of this group.</param>
/// <param name="AntiAffinityGroup">Place on a host that runs no workload of this group.</param>
public sealed record PlaceWorkloadRequest(
    string Name,
    WorkloadResources Resources,
    string? Trust = null,
    IReadOnlyList<string>? Pools = null,
    IReadOnlyList<string>? Tags = null,
    string? AffinityGroup = null,
    string? AntiAffinityGroup = null);

/// <summary>The <c>request</c> of a placement as stored and returned: normalized, defaults filled in, tags as written.</summary>
/// <param name="Name">The workload's name.</param>
/// <param name="Resources">What the workload needs of a host's capacity.</param>
/// <param name="Trust"><c>required</c>, <c>preferred</c> or <c>any</c>.</param>
/// <param name="Pools">Trusted compute pools the host must be trusted in.</param>
/// <param name="Tags">Tag requirements: <c>key=value</c> must be present, <c>!key=value</c> must not.</param>
/// <param name="AffinityGroup">Placed on a host that already ran a workload of this group.</param>
/// <param name="AntiAffinityGroup">Placed on a host that ran no workload of this group.</param>
public sealed record WorkloadView(
    string Name,
    WorkloadResources Resources,
    string Trust,
    IReadOnlyList<string> Pools,
    IReadOnlyList<string> Tags,
    string? AffinityGroup,
    string? AntiAffinityGroup)
{
    /// <summary>The request as it is stored and returned with its placement.</summary>
    public static WorkloadView From(WorkloadRequest r) => new(
        r.Name,
        new WorkloadResources(r.Resources.VCpus, r.Resources.MemoryMb, r.Resources.DiskGb),
        r.Trust.ToString().ToLowerInvariant(),
        [.. r.Pools],
        [.. r.Tags.Select(t => (t.Forbidden ? "!" : "") + t.Key + "=" + t.Value)],
        r.AffinityGroup,
        r.AntiAffinityGroup);
}

/// <summary>A workload's resource needs (each an integer, 0 or more).</summary>
/// <param name="VCpus">Virtual CPUs (at most 2^20).</param>
/// <param name="MemoryMb">Memory in MiB.</param>
/// <param name="DiskGb">Disk in GiB.</param>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record WorkloadResources(
    [property: JsonPropertyName("vcpus")] int VCpus,
    long MemoryMb,
    long DiskGb);

/// <summary>The scheduler's explanation of one decision: outcome, the report relied on, candidates and every rejection.</summary>
/// <param name="Placed">True when a host was chosen.</param>
/// <param name="Host">The chosen host; null when none passed every filter.</param>
/// <param name="ReportId">The trust report the placement relies on (the chosen host's latest), if any.</param>
/// <param name="ReportValidTo">When that report expires.</param>
/// <param name="Winner">The chosen host's weights; null when not placed.</param>
/// <param name="Candidates">The best few hosts that passed every filter, winner first.</param>
/// <param name="Rejections">Every host a filter rejected, with the filter and reason (ordered by host name).</param>
public sealed record PlacementDecisionView(
    bool Placed,
    string? Host,
    string? ReportId,
    DateTimeOffset? ReportValidTo,
    WeighedHostView? Winner,
    IReadOnlyList<WeighedHostView> Candidates,
    IReadOnlyList<RejectionView> Rejections)
{
    public static PlacementDecisionView From(PlacementDecision d) => new(
        d.Placed,
        d.Host,
        d.ReportId,
        d.ReportValidTo,
        d.Winner is null ? null : WeighedHostView.From(d.Winner),
        [.. d.Candidates.Select(WeighedHostView.From)],
        [.. d.Rejections.Select(r => new RejectionView(r.Host, r.Filter, r.Reason))]);
}

/// <summary>A host that passed every filter, with its weighed score.</summary>
/// <param name="Host">The host's name.</param>
/// <param name="Total">The sum of its weights.</param>
/// <param name="Weights">Each weigher's contribution, by weigher name.</param>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record WeighedHostView(string Host, double Total, IReadOnlyDictionary<string, double> Weights)
{
    public static WeighedHostView From(WeighedHost w) => new(w.Host, w.Total, w.Weights);
}

/// <summary>A host a filter rejected.</summary>
/// <param name="Host">The host's name.</param>
/// <param name="Filter">The filter that rejected it.</param>
/// <param name="Reason">Why.</param>
public sealed record RejectionView(string Host, string Filter, string Reason);

/// <summary>A recorded placement (<c>GET /v1/placements/{id}</c>, and the body of <c>201</c> from <c>POST /v1/placements</c>).</summary>
/// <param name="Id">The placement id.</param>
/// <param name="Workload">The workload's name.</param>
/// <param name="Host">The host it was placed on.</param>
/// <param name="ReportId">The trust report the decision relied on, if any.</param>
/// <param name="CreatedAt">When it was placed.</param>
/// <param name="ReleasedAt">When it was released; null while active.</param>
/// <param name="Request">The workload request, normalized.</param>
/// <param name="Decision">The scheduler's explanation as it was when placed.</param>
public sealed record PlacementView(
    string Id,
    string Workload,
    string Host,
    string? ReportId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ReleasedAt,
    WorkloadView Request,
    PlacementDecisionView Decision)
{
    public static PlacementView From(PlacementRecord p) => new(
        p.Id,
        p.Workload,
        p.Host,
        p.ReportId,
        p.CreatedAt,
        p.ReleasedAt,
        JsonSerializer.Deserialize(p.RequestJson, PlacementJsonContext.Default.WorkloadView)!,
        JsonSerializer.Deserialize(p.DecisionJson, PlacementJsonContext.Default.PlacementDecisionView)!);
}

/// <summary><c>GET /v1/placements</c>.</summary>
/// <param name="Placements">Active placements (all with <c>?all=true</c>), optionally of one host.</param>
public sealed record PlacementList(IReadOnlyList<PlacementView> Placements);

/// <summary>
/// The evacuation plan (<c>GET</c> reads it, <c>POST /v1/evacuations</c> records it): for every host no longer trusted
/// (or whose report expired, or removed), each trust-requiring workload there with a proposed new host.
/// </summary>
/// <param name="At">When the plan was computed.</param>
/// <param name="Items">The workloads to move, ordered by source host, then the host's workload order.</param>
public sealed record EvacuationPlanView(DateTimeOffset At, IReadOnlyList<EvacuationItemView> Items)
{
    public static EvacuationPlanView From(EvacuationPlan plan) => new(
        plan.At,
        [.. plan.Items.Select(i => new EvacuationItemView(i.Workload.Id, i.Workload.Name, i.SourceHost, i.Why, i.ProposedHost, i.ProposedReportId, i.Problem))]);
}

/// <summary>One workload to move.</summary>
/// <param name="PlacementId">Its placement id.</param>
/// <param name="Workload">The workload's name.</param>
/// <param name="SourceHost">The host it is on.</param>
/// <param name="Why"><c>untrusted</c>, <c>unknown</c> or <c>report expired at ...</c>.</param>
/// <param name="ProposedHost">Where to move it; null when no host fits (see <paramref name="Problem"/>).</param>
/// <param name="ProposedReportId">The report the proposed placement relies on.</param>
/// <param name="Problem">Why no host was proposed (<c>no capacity: ...</c>).</param>
public sealed record EvacuationItemView(
    string PlacementId,
    string Workload,
    string SourceHost,
    string Why,
    string? ProposedHost,
    string? ProposedReportId,
    string? Problem);

/// <summary>
/// <c>PUT /v1/hosts/{name}/inventory</c>: the operator-asserted capacity and power of a host (audited, old and new).
/// The response is the stored <see cref="HostInventory"/>.
/// </summary>
/// <param name="VCpus">Virtual CPUs, integer 0..2^20 (required).</param>
/// <param name="MemoryMb">Memory in MiB, integer (required).</param>
/// <param name="DiskGb">Disk in GiB, integer (required).</param>
/// <param name="IdleWatts">Power drawn idle, 0..100000.</param>
/// <param name="PeakWatts">Power drawn at full load, 0..100000.</param>
/// <param name="PowerEfficiency">Work per watt, 0..1e9.</param>
/// <param name="Load">Current load 0..1 (default 0).</param>
/// <param name="Performance">Relative performance, 0..1e9 (default 1).</param>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record SetHostInventoryRequest(
    [property: JsonPropertyName("vcpus")] int VCpus,
    long MemoryMb,
    long DiskGb,
    double? IdleWatts = null,
    double? PeakWatts = null,
    double? PowerEfficiency = null,
    double? Load = null,
    double? Performance = null);

/// <summary>The source-generated JSON of the placements area (placements, evacuations, inventory).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PlaceWorkloadRequest))]
[JsonSerializable(typeof(WorkloadView))]
[JsonSerializable(typeof(PlacementDecisionView))]
[JsonSerializable(typeof(PlacementView))]
[JsonSerializable(typeof(PlacementList))]
[JsonSerializable(typeof(EvacuationPlanView))]
[JsonSerializable(typeof(SetHostInventoryRequest))]
[JsonSerializable(typeof(HostInventory))]
internal partial class PlacementJsonContext : JsonSerializerContext;
