namespace TrustPool.Scheduling;

/// <summary>Weigher multipliers (Nova's <c>*_weight_multiplier</c>): each weigher's 0..1 value is multiplied by its own before summing.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Default options.</summary>
    public static SchedulerOptions Default { get; } = new();

    /// <summary>PowerWeigher: prefer power-efficient hosts. 0 turns it off; negative prefers the opposite.</summary>
    public double PowerMultiplier { get; init; } = 1;

    /// <summary>LoadWeigher multiplier.</summary>
    public double LoadMultiplier { get; init; } = 1;

    /// <summary>LoadWeigher direction: spread (least loaded first) or pack.</summary>
    public LoadStrategy Load { get; init; } = LoadStrategy.Spread;

    /// <summary>PerformanceWeigher: prefer faster hosts.</summary>
    public double PerformanceMultiplier { get; init; } = 1;

    /// <summary>TrustPreferenceWeigher (only for <see cref="TrustRequirement.Preferred"/>): bonus for trusted hosts.</summary>
    public double TrustPreferenceMultiplier { get; init; } = 10;

    /// <summary>How many of the best candidates a decision keeps (winner included). At least 1.</summary>
    public int CandidatesKept { get; init; } = 3;
}
