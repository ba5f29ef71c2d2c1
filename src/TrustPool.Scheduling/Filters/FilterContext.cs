namespace TrustPool.Scheduling.Filters;

/// <summary>Which filter rejected a host, in pipeline order (the first failing one is the one named).</summary>
internal enum FilterId : byte
{
    None = 0,
    Trust,
    Pool,
    AssetTag,
    Capacity,
    Affinity,
}

/// <summary>
/// Per-request data computed once per decision: the clock as UTC ticks, tag requirements split into arrays, whether the
/// affinity group runs anywhere. Filters read it for every host.
/// </summary>
internal sealed class FilterContext
{
    public FilterContext(WorkloadRequest request, DateTimeOffset now, IReadOnlyList<HostView> hosts, int excluded)
    {
        Request = request;
        Now = now;
        NowUtcTicks = now.UtcTicks;
        Excluded = excluded;
        TrustRequired = request.Trust == TrustRequirement.Required;
        Resources = request.Resources;
        Pools = [.. request.Pools];
        var required = 0;
        var forbidden = 0;
        foreach (var t in request.Tags)
        {
            if (t.Forbidden)
            {
                forbidden++;
            }
            else
            {
                required++;
            }
        }

        RequiredKeys = new string[required];
        RequiredValues = new string[required];
        ForbiddenKeys = new string[forbidden];
        ForbiddenValues = new string[forbidden];
        required = 0;
        forbidden = 0;
        foreach (var t in request.Tags)
        {
            if (t.Forbidden)
            {
                ForbiddenKeys[forbidden] = t.Key;
                ForbiddenValues[forbidden++] = t.Value;
            }
            else
            {
                RequiredKeys[required] = t.Key;
                RequiredValues[required++] = t.Value;
            }
        }

        AffinityGroup = request.AffinityGroup;
        AntiAffinityGroup = request.AntiAffinityGroup;
        _hosts = hosts;
    }

    private readonly IReadOnlyList<HostView> _hosts;
    private bool? _affinityGroupRunsSomewhere;

    public WorkloadRequest Request { get; }

    public DateTimeOffset Now { get; }

    public long NowUtcTicks { get; }

    /// <summary>Index of a host left out altogether (the source of an evacuation), or -1.</summary>
    public int Excluded { get; }

    public bool TrustRequired { get; }

    public Resources Resources { get; }

    public string[] Pools { get; }

    public string[] RequiredKeys { get; }

    public string[] RequiredValues { get; }

    public string[] ForbiddenKeys { get; }

    public string[] ForbiddenValues { get; }

    public string? AffinityGroup { get; }

    public string? AntiAffinityGroup { get; }

    /// <summary>
    /// "If any host runs the group, only those hosts; else any host": whether any host other than the excluded one
    /// runs a workload of the affinity group. Set by the host index when it has computed it, else one pass here.
    /// </summary>
    public bool AffinityGroupRunsSomewhere
    {
        get
        {
            if (_affinityGroupRunsSomewhere is { } known)
            {
                return known;
            }

            var runs = false;
            if (AffinityGroup is not null)
            {
                for (var i = 0; i < _hosts.Count && !runs; i++)
                {
                    runs = i != Excluded && AffinityFilter.RunsGroup(_hosts[i], AffinityGroup, anti: false);
                }
            }

            _affinityGroupRunsSomewhere = runs;
            return runs;
        }

        set => _affinityGroupRunsSomewhere = value;
    }

    /// <summary>The host's report is inside its validity window (<c>now &lt; ValidTo</c>).</summary>
    public bool IsValid(HostView host) => host.ValidTo is { } v && NowUtcTicks < v.UtcTicks;

    /// <summary>Hot path: all filters, cheapest first. The order does not change the outcome, only which filter is named (see <see cref="FirstFailing"/>).</summary>
    public bool PassesAll(HostView host) =>
        TrustFilter.Passes(host, this)
        && CapacityFilter.Passes(host, this)
        && PoolFilter.Passes(host, this)
        && AssetTagFilter.Passes(host, this)
        && AffinityFilter.Passes(host, this);

    /// <summary>The first filter in pipeline order (Trust, Pool, AssetTag, Capacity, Affinity) that rejects the host.</summary>
    public FilterId FirstFailing(HostView host) =>
        !TrustFilter.Passes(host, this) ? FilterId.Trust
        : !PoolFilter.Passes(host, this) ? FilterId.Pool
        : !AssetTagFilter.Passes(host, this) ? FilterId.AssetTag
        : !CapacityFilter.Passes(host, this) ? FilterId.Capacity
        : !AffinityFilter.Passes(host, this) ? FilterId.Affinity
        : FilterId.None;

    public Rejection Describe(HostView host, FilterId filter) => filter switch
    {
        FilterId.Trust => new(host.Name, TrustFilter.Name, TrustFilter.Reason(host, this)),
        FilterId.Pool => new(host.Name, PoolFilter.Name, PoolFilter.Reason(host, this)),
        FilterId.AssetTag => new(host.Name, AssetTagFilter.Name, AssetTagFilter.Reason(host, this)),
        FilterId.Capacity => new(host.Name, CapacityFilter.Name, CapacityFilter.Reason(host, this)),
        FilterId.Affinity => new(host.Name, AffinityFilter.Name, AffinityFilter.Reason(host, this)),
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };

    public static string Time(DateTimeOffset t) => t.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
}
