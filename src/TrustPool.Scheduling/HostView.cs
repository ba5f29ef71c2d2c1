namespace TrustPool.Scheduling;

/// <summary>
/// What the scheduler knows about one host: capacity and usage, the latest trust report's verdict (overall and per pool)
/// with its id and end of validity, asset tags, power, load, performance and the workloads placed there. Built by the
/// service from its store; the scheduler never reads a TPM or a database.
/// </summary>
public sealed record HostView
{
    private static readonly IReadOnlyDictionary<string, HostTrust> s_noPools = new Dictionary<string, HostTrust>(StringComparer.Ordinal);
    private static readonly IReadOnlyDictionary<string, string> s_noTags = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Host name (unique; ties between equal weights are broken by ordinal order of this name).</summary>
    public required string Name { get; init; }

    /// <summary>Total capacity.</summary>
    public Resources Capacity { get; init; }

    /// <summary>Capacity in use, including every workload in <see cref="Workloads"/>.</summary>
    public Resources Used { get; init; }

    /// <summary>Overall trust from the latest report; counts only while the clock is before <see cref="ValidTo"/>.</summary>
    public HostTrust Trust { get; init; }

    /// <summary>Id of the latest trust report, recorded in a placement that relies on it.</summary>
    public string? ReportId { get; init; }

    /// <summary>End of the latest report's validity. Null (no report) or past means <see cref="HostTrust.Unknown"/>.</summary>
    public DateTimeOffset? ValidTo { get; init; }

    /// <summary>Trust per pool name from the same report (pool names compare as the dictionary's comparer says).</summary>
    public IReadOnlyDictionary<string, HostTrust> Pools { get; init; } = s_noPools;

    /// <summary>Asset tags (key to value).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = s_noTags;

    /// <summary>Power draw at idle, watts.</summary>
    public double? IdleWatts { get; init; }

    /// <summary>Power draw at full load, watts.</summary>
    public double? PeakWatts { get; init; }

    /// <summary>Power-efficiency score, higher is better; when set it wins over the watts.</summary>
    public double? PowerEfficiency { get; init; }

    /// <summary>Current load, 0..1.</summary>
    public double Load { get; init; }

    /// <summary>Performance score, higher is faster.</summary>
    public double Performance { get; init; }

    /// <summary>Workloads placed on this host.</summary>
    public IReadOnlyList<PlacedWorkload> Workloads { get; init; } = [];

    /// <summary>Free capacity (may be negative when over-committed).</summary>
    public Resources Free => Capacity - Used;

    /// <summary>The trust that counts at <paramref name="now"/>: <see cref="Trust"/> while <c>now &lt; ValidTo</c>, else Unknown.</summary>
    public HostTrust TrustAt(DateTimeOffset now) => IsReportValid(now) ? Trust : HostTrust.Unknown;

    /// <summary>The trust of <paramref name="pool"/> that counts at <paramref name="now"/>: Unknown when absent or the report expired.</summary>
    public HostTrust PoolTrustAt(string pool, DateTimeOffset now) =>
        IsReportValid(now) && Pools.TryGetValue(pool, out var t) ? t : HostTrust.Unknown;

    /// <summary>True while a report exists and <c>now &lt; ValidTo</c>.</summary>
    public bool IsReportValid(DateTimeOffset now) => ValidTo is { } v && now < v;
}
