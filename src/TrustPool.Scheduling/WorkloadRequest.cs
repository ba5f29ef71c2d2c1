namespace TrustPool.Scheduling;

/// <summary>A workload to place: resources, trust requirement, pools (each must be trusted on the host), tag requirements, groups.</summary>
public sealed record WorkloadRequest
{
    /// <summary>Workload name (shown in explanations).</summary>
    public required string Name { get; init; }

    /// <summary>Resources the workload needs.</summary>
    public Resources Resources { get; init; }

    /// <summary>Trust requirement; required by default.</summary>
    public TrustRequirement Trust { get; init; } = TrustRequirement.Required;

    /// <summary>Pools the host must be trusted for (all of them).</summary>
    public IReadOnlyList<string> Pools { get; init; } = [];

    /// <summary>Required (<c>country=DE</c>) and forbidden (<c>!zone=dmz</c>) asset tags.</summary>
    public IReadOnlyList<TagRequirement> Tags { get; init; } = [];

    /// <summary>Place with workloads of this group (on a host already running one, if any host does).</summary>
    public string? AffinityGroup { get; init; }

    /// <summary>Never place on a host already running a workload of this group.</summary>
    public string? AntiAffinityGroup { get; init; }
}
