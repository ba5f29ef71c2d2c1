using System.Globalization;
using System.Text;

namespace TrustPool.Scheduling;

/// <summary>
/// The scheduler's decision for one workload: the host (null when no host passed every filter), the trust report the
/// placement relies on (the chosen host's latest report), every rejected host with the filter and reason, the winner's
/// weights and the best few candidates (winner first).
/// </summary>
/// <remarks>
/// <see cref="Rejections"/> built by <see cref="Scheduler"/> is materialised on first use (its <c>Count</c> is known
/// at once) by re-running the filters on the hosts and clock the decision was made with: pure functions of immutable
/// <see cref="HostView"/>s, so the answer is the same as if it had been recorded, provided the caller does not change
/// the host list it passed to <see cref="Scheduler.Place"/> in between. Rejections are ordered by host name (ordinal).
/// </remarks>
public sealed record PlacementDecision(
    WorkloadRequest Request,
    string? Host,
    string? ReportId,
    DateTimeOffset? ReportValidTo,
    IReadOnlyList<Rejection> Rejections,
    WeighedHost? Winner,
    IReadOnlyList<WeighedHost> Candidates)
{
    /// <summary>True when a host was chosen.</summary>
    public bool Placed => Host is not null;

    /// <summary>A human-readable account: the request, the outcome and report, the weights of the best candidates, every rejection.</summary>
    public string Explain()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"workload '{Request.Name}' ({Request.Resources}, trust {TrustRequirementText.Format(Request.Trust)}");
        if (Request.Pools.Count > 0)
        {
            sb.Append(ci, $", pools [{string.Join(", ", Request.Pools)}]");
        }

        if (Request.Tags.Count > 0)
        {
            sb.Append(ci, $", tags [{string.Join(", ", Request.Tags)}]");
        }

        if (Request.AffinityGroup is not null)
        {
            sb.Append(ci, $", affinity '{Request.AffinityGroup}'");
        }

        if (Request.AntiAffinityGroup is not null)
        {
            sb.Append(ci, $", anti-affinity '{Request.AntiAffinityGroup}'");
        }

        sb.Append(")\n");
        if (Placed)
        {
            sb.Append(ci, $"placed on {Host}, relying on trust report {ReportId ?? "(none)"}");
            sb.Append(ReportValidTo is { } v ? $" valid to {v.ToString("O", ci)}\n" : "\n");
        }
        else
        {
            sb.Append("not placed: no host passed every filter\n");
        }

        foreach (var c in Candidates)
        {
            sb.Append(ci, $"  {(ReferenceEquals(c, Winner) ? "winner" : "candidate")} {c.Host}: total {c.Total:0.####}");
            if (c.Weights.Count > 0)
            {
                sb.Append(" (");
                sb.AppendJoin(", ", c.Weights.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => string.Create(ci, $"{w.Key} {w.Value:0.####}")));
                sb.Append(')');
            }

            sb.Append('\n');
        }

        sb.Append(ci, $"rejected {Rejections.Count} host(s)\n");
        foreach (var r in Rejections)
        {
            sb.Append(ci, $"  {r.Host}: {r.Filter}: {r.Reason}\n");
        }

        return sb.ToString();
    }
}
