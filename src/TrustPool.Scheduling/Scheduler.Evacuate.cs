using System.Globalization;

namespace TrustPool.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Plans moving every trust-required workload off each host that is not trusted at <paramref name="now"/>
    /// (untrusted, unknown, no report, or report expired). Each workload goes through the same pipeline as
    /// <see cref="Place"/> with its source host excluded; capacity (and group membership) taken by earlier items of
    /// the plan counts for later ones. Hosts in ordinal name order, workloads in the host's order.
    /// </summary>
    public EvacuationPlan Evacuate(IReadOnlyList<HostView> hosts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var work = hosts.ToArray();
        var order = Enumerable.Range(0, work.Length)
            .OrderBy(i => work[i].Name, StringComparer.Ordinal)
            .ThenBy(i => i)
            .ToArray();
        var items = new List<EvacuationItem>();
        foreach (var source in order)
        {
            var host = hosts[source];
            if (host.TrustAt(now) == HostTrust.Trusted)
            {
                continue;
            }

            var why = host.ValidTo is { } v && now >= v ? $"report expired at {v.ToString("O", CultureInfo.InvariantCulture)}"
                : host.ValidTo is not null && host.Trust == HostTrust.Untrusted ? "untrusted"
                : "unknown";
            foreach (var w in host.Workloads)
            {
                if (w.Trust != TrustRequirement.Required)
                {
                    continue;
                }

                var request = new WorkloadRequest
                {
                    Name = w.Name,
                    Resources = w.Resources,
                    Trust = TrustRequirement.Required,
                    Pools = w.Pools,
                    Tags = w.Tags ?? [],
                    AffinityGroup = w.AffinityGroup,
                    AntiAffinityGroup = w.AntiAffinityGroup,
                };
                var decision = PlaceCore(request, work, now, source, out var target);
                if (decision.Placed)
                {
                    var t = work[target];
                    work[target] = t with
                    {
                        Used = t.Used + w.Resources,
                        Workloads = [.. t.Workloads, w with { ReportId = t.ReportId }],
                    };
                    items.Add(new EvacuationItem(w, host.Name, why, decision.Host, decision.ReportId, null));
                }
                else
                {
                    var byFilter = decision.Rejections
                        .GroupBy(r => r.Filter, StringComparer.Ordinal)
                        .OrderByDescending(g => g.Count())
                        .ThenBy(g => g.Key, StringComparer.Ordinal)
                        .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} {g.Count()}"));
                    var problem = decision.Rejections.Count == 0
                        ? "no capacity: no other host"
                        : $"no capacity: all {decision.Rejections.Count} other host(s) rejected ({string.Join(", ", byFilter)})";
                    items.Add(new EvacuationItem(w, host.Name, why, null, null, problem));
                }
            }
        }

        return new EvacuationPlan(now, items);
    }
}
