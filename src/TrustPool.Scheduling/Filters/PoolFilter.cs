namespace TrustPool.Scheduling.Filters;

/// <summary>Every requested pool must be trusted for the host in its latest, unexpired report.</summary>
internal static class PoolFilter
{
    public const string Name = "PoolFilter";

    public static bool Passes(HostView host, FilterContext c)
    {
        var pools = c.Pools;
        if (pools.Length == 0)
        {
            return true;
        }

        if (!c.IsValid(host))
        {
            return false;
        }

        var trust = host.Pools;
        foreach (var p in pools)
        {
            if (!trust.TryGetValue(p, out var t) || t != HostTrust.Trusted)
            {
                return false;
            }
        }

        return true;
    }

    public static string Reason(HostView host, FilterContext c)
    {
        foreach (var p in c.Pools)
        {
            if (host.ValidTo is null)
            {
                return $"pool '{p}': trust unknown: no trust report";
            }

            if (!c.IsValid(host))
            {
                return $"pool '{p}': trust unknown: report {host.ReportId ?? "(no id)"} expired at {FilterContext.Time(host.ValidTo.Value)}";
            }

            if (!host.Pools.TryGetValue(p, out var t))
            {
                return $"pool '{p}': trust unknown: not in report {host.ReportId ?? "(no id)"}";
            }

            if (t != HostTrust.Trusted)
            {
                return $"pool '{p}': {(t == HostTrust.Untrusted ? "untrusted" : "trust unknown")} (report {host.ReportId ?? "(no id)"})";
            }
        }

        return "passes";
    }
}
