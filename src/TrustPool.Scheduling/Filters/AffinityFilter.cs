namespace TrustPool.Scheduling.Filters;

/// <summary>
/// Affinity group: if any host (other than an evacuation's source) already runs a workload of the group, only such
/// hosts pass; otherwise any host does. Anti-affinity group: the host must not run a workload of the group. Group
/// names compare ordinally; a workload belongs to an affinity group through <see cref="PlacedWorkload.AffinityGroup"/>
/// and to an anti-affinity group through <see cref="PlacedWorkload.AntiAffinityGroup"/>.
/// </summary>
internal static class AffinityFilter
{
    public const string Name = "AffinityFilter";

    public static bool Passes(HostView host, FilterContext c)
    {
        if (c.AntiAffinityGroup is { } anti && RunsGroup(host, anti, anti: true))
        {
            return false;
        }

        return !c.AffinityGroupRunsSomewhere || RunsGroup(host, c.AffinityGroup!, anti: false);
    }

    public static bool RunsGroup(HostView host, string group, bool anti)
    {
        var workloads = host.Workloads;
        for (var i = 0; i < workloads.Count; i++)
        {
            if (string.Equals(anti ? workloads[i].AntiAffinityGroup : workloads[i].AffinityGroup, group, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public static string Reason(HostView host, FilterContext c)
    {
        if (c.AntiAffinityGroup is { } anti)
        {
            foreach (var w in host.Workloads)
            {
                if (string.Equals(w.AntiAffinityGroup, anti, StringComparison.Ordinal))
                {
                    return $"anti-affinity group '{anti}': already runs workload '{w.Name}' ({w.Id})";
                }
            }
        }

        return $"affinity group '{c.AffinityGroup}': runs on other hosts, not on this one";
    }
}
