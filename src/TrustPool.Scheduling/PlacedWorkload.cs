namespace TrustPool.Scheduling;

/// <summary>
/// A workload already running on a host: what affinity, anti-affinity and evacuation look at.
/// <paramref name="ReportId"/> is the trust report its placement relied on. <paramref name="Tags"/> (an addition to the
/// issue's shape, optional) are the tag requirements it was placed with, re-applied when it is evacuated.
/// </summary>
public sealed record PlacedWorkload(
    string Id,
    string Name,
    Resources Resources,
    TrustRequirement Trust,
    IReadOnlyList<string> Pools,
    string? AffinityGroup,
    string? AntiAffinityGroup,
    string? ReportId,
    IReadOnlyList<TagRequirement>? Tags = null);
