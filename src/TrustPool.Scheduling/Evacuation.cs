namespace TrustPool.Scheduling;

/// <summary>
/// One workload to move off a host that is no longer trusted. <paramref name="Why"/>: <c>untrusted</c>, <c>unknown</c>
/// or <c>report expired at ...</c>. Either a proposed host (and the report that placement relies on) or a
/// <paramref name="Problem"/> (<c>no capacity: ...</c>).
/// </summary>
public sealed record EvacuationItem(
    PlacedWorkload Workload,
    string SourceHost,
    string Why,
    string? ProposedHost,
    string? ProposedReportId,
    string? Problem);

/// <summary>Everything to move at <paramref name="At"/>; items ordered by source host name (ordinal), then the host's workload order.</summary>
public sealed record EvacuationPlan(DateTimeOffset At, IReadOnlyList<EvacuationItem> Items);
