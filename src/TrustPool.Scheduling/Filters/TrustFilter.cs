namespace TrustPool.Scheduling.Filters;

/// <summary>
/// Trust required: the host's latest report must say trusted and still be valid (<c>now &lt; ValidTo</c>); unknown,
/// untrusted, no report and an expired report are all rejected. Preferred and any pass (preferred is weighed instead).
/// </summary>
internal static class TrustFilter
{
    public const string Name = "TrustFilter";

    public static bool Passes(HostView host, FilterContext c) =>
        !c.TrustRequired || (host.Trust == HostTrust.Trusted && c.IsValid(host));

    public static string Reason(HostView host, FilterContext c)
    {
        if (host.ValidTo is null)
        {
            return "trust unknown: no trust report";
        }

        if (!c.IsValid(host))
        {
            return $"trust unknown: report {host.ReportId ?? "(no id)"} expired at {FilterContext.Time(host.ValidTo.Value)}";
        }

        return host.Trust == HostTrust.Untrusted
            ? $"untrusted (report {host.ReportId ?? "(no id)"})"
            : $"trust unknown (report {host.ReportId ?? "(no id)"})";
    }
}
