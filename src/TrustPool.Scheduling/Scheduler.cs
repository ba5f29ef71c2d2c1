using System.Buffers;
using System.Runtime.InteropServices;
using TrustPool.Scheduling.Filters;
using TrustPool.Scheduling.Index;
using TrustPool.Scheduling.Weighers;

namespace TrustPool.Scheduling;

/// <summary>
/// Nova-style filter scheduler over host views: filters (TrustFilter, PoolFilter, AssetTagFilter, CapacityFilter,
/// AffinityFilter) drop hosts, weighers (PowerWeigher, LoadWeigher, PerformanceWeigher, and TrustPreferenceWeigher for
/// trust-preferred workloads) rank the rest; equal totals go to the ordinally smaller host name. Pure: no I/O, no
/// clock of its own; the same input gives the same answer whatever the order of the hosts. Thread-safe: placements on
/// one instance are serialised (it keeps a compact index of the last host list it saw, updated by reference comparison,
/// see <c>Index/HostIndex.cs</c>); use one instance per thread to place in parallel. Host views, and the collections
/// inside them, must not be mutated once handed over: replace a view with a new instance (<c>with</c>) instead.
/// </summary>
public sealed partial class Scheduler
{
    private readonly SchedulerOptions _options;
    private readonly int _kept;
    private readonly HostIndex _index = new();

    /// <summary>Creates a scheduler with the given weigher multipliers (defaults when null).</summary>
    public Scheduler(SchedulerOptions? options = null)
    {
        _options = options ?? SchedulerOptions.Default;
        _kept = Math.Max(1, _options.CandidatesKept);
    }

    /// <summary>The options in use.</summary>
    public SchedulerOptions Options => _options;

    /// <summary>
    /// Chooses a host for <paramref name="request"/> among <paramref name="hosts"/> at <paramref name="now"/> (a report
    /// counts only while <c>now &lt; ValidTo</c>). O(hosts); allocates a constant amount per decision, whatever the
    /// number of hosts (rejections are materialised on first use, see <see cref="PlacementDecision"/>).
    /// </summary>
    public PlacementDecision Place(WorkloadRequest request, IReadOnlyList<HostView> hosts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(hosts);
        return PlaceCore(request, hosts, now, excluded: -1, out _);
    }

    private struct Candidate
    {
        public int Host;
        public byte PowerKind;
        public double Power;
        public double Load;
        public double Performance;
        public double Trust;
    }

    internal PlacementDecision PlaceCore(WorkloadRequest request, IReadOnlyList<HostView> hosts, DateTimeOffset now, int excluded, out int winnerIndex)
    {
        // The index is this scheduler's working memory, shared between calls: one placement at a time.
        lock (_index)
        {
            return PlaceLocked(request, hosts, now, excluded, out winnerIndex);
        }
    }

    private PlacementDecision PlaceLocked(WorkloadRequest request, IReadOnlyList<HostView> hosts, DateTimeOffset now, int excluded, out int winnerIndex)
    {
        var context = new FilterContext(request, now, hosts, excluded);
        var n = hosts.Count;
        HostView[]? copied = null;
        ReadOnlySpan<HostView> span;
        if (hosts is HostView[] array)
        {
            span = array;
        }
        else if (hosts is List<HostView> list)
        {
            span = CollectionsMarshal.AsSpan(list);
        }
        else
        {
            copied = ArrayPool<HostView>.Shared.Rent(n);
            for (var i = 0; i < n; i++)
            {
                copied[i] = hosts[i];
            }

            span = copied.AsSpan(0, n);
        }

        var candidates = ArrayPool<Candidate>.Shared.Rent(Math.Max(1, n));
        try
        {
            _index.Sync(span);
            var query = _index.Compile(context, span);
            var count = 0;
            var preferred = request.Trust == TrustRequirement.Preferred;
            var strategy = _options.Load;
            var resources = request.Resources;
            var nowTicks = context.NowUtcTicks;
            MinMax powerScore = default, powerWatts = default, load = default, perf = default, trust = default;

            // Pass 1: filters, raw weights, ranges.
            var index = _index;
            var passing = ArrayPool<int>.Shared.Rent(Math.Max(1, n));
            var passed = index.Scan(query, excluded, passing);
            for (var p = 0; p < passed; p++)
            {
                var i = passing[p];
                ref var c = ref candidates[count++];
                c.Host = i;
                c.Power = index.Power(i, resources.VCpus, out c.PowerKind);
                if (c.PowerKind == PowerWeigher.Score)
                {
                    powerScore.Add(c.Power);
                }
                else if (c.PowerKind == PowerWeigher.Watts)
                {
                    powerWatts.Add(c.Power);
                }

                c.Load = index.Load(i, strategy);
                load.Add(c.Load);
                c.Performance = index.Performance(i);
                perf.Add(c.Performance);
                if (preferred)
                {
                    c.Trust = index.TrustPreference(i, nowTicks);
                    trust.Add(c.Trust);
                }
            }

            ArrayPool<int>.Shared.Return(passing);
            var rejected = span.Length - count - (excluded >= 0 && excluded < span.Length ? 1 : 0);
            var rejections = new RejectionList(hosts, context, rejected);
            if (count == 0)
            {
                winnerIndex = -1;
                return new PlacementDecision(request, null, null, null, rejections, null, []);
            }

            // Pass 2: totals, best few (winner first; equal totals by ordinal host name).
            Span<int> best = stackalloc int[_kept];
            Span<double> bestTotal = stackalloc double[_kept];
            var kept = 0;
            var wPower = _options.PowerMultiplier;
            var wLoad = _options.LoadMultiplier;
            var wPerf = _options.PerformanceMultiplier;
            var wTrust = _options.TrustPreferenceMultiplier;
            for (var k = 0; k < count; k++)
            {
                ref readonly var c = ref candidates[k];
                var total = Total(in c, powerScore, powerWatts, load, perf, trust, wPower, wLoad, wPerf, wTrust, preferred);
                if (kept == best.Length && !Better(total, c.Host, bestTotal[kept - 1], best[kept - 1], span))
                {
                    continue;
                }

                var at = kept < best.Length ? kept++ : kept - 1;
                while (at > 0 && Better(total, c.Host, bestTotal[at - 1], best[at - 1], span))
                {
                    best[at] = best[at - 1];
                    bestTotal[at] = bestTotal[at - 1];
                    at--;
                }

                best[at] = c.Host;
                bestTotal[at] = total;
            }

            // Materialise the few kept: their raw values are recomputed (pure), avoiding a host -> candidate map.
            var weighed = new WeighedHost[kept];
            for (var k = 0; k < kept; k++)
            {
                var h = span[best[k]];
                var weights = new Dictionary<string, double>(preferred ? 4 : 3, StringComparer.Ordinal);
                var raw = PowerWeigher.Raw(h, resources, out var kind);
                weights[PowerWeigher.Name] = wPower * (kind == PowerWeigher.Score ? powerScore.Normalize(raw) : kind == PowerWeigher.Watts ? powerWatts.Normalize(raw) : 0);
                weights[LoadWeigher.Name] = wLoad * load.Normalize(LoadWeigher.Raw(h, strategy));
                weights[PerformanceWeigher.Name] = wPerf * perf.Normalize(PerformanceWeigher.Raw(h));
                if (preferred)
                {
                    weights[TrustPreferenceWeigher.Name] = wTrust * trust.Normalize(TrustPreferenceWeigher.Raw(h, nowTicks));
                }

                weighed[k] = new WeighedHost(h.Name, bestTotal[k], weights);
            }

            var winner = span[best[0]];
            winnerIndex = best[0];
            return new PlacementDecision(request, winner.Name, winner.ReportId, winner.ValidTo, rejections, weighed[0], weighed);
        }
        finally
        {
            ArrayPool<Candidate>.Shared.Return(candidates);
            if (copied is not null)
            {
                ArrayPool<HostView>.Shared.Return(copied, clearArray: true);
            }
        }
    }

    private static double Total(
        in Candidate c, in MinMax powerScore, in MinMax powerWatts, in MinMax load, in MinMax perf, in MinMax trust,
        double wPower, double wLoad, double wPerf, double wTrust, bool preferred)
    {
        // Fixed summation order: the same host gets bit-identical totals whatever the host order.
        var power = c.PowerKind == PowerWeigher.Score ? powerScore.Normalize(c.Power)
            : c.PowerKind == PowerWeigher.Watts ? powerWatts.Normalize(c.Power) : 0;
        var total = wPower * power;
        total += wLoad * load.Normalize(c.Load);
        total += wPerf * perf.Normalize(c.Performance);
        if (preferred)
        {
            total += wTrust * trust.Normalize(c.Trust);
        }

        return total;
    }

    private static bool Better(double total, int host, double otherTotal, int otherHost, ReadOnlySpan<HostView> hosts) =>
        total > otherTotal
        || (total == otherTotal && (string.CompareOrdinal(hosts[host].Name, hosts[otherHost].Name) is var cmp && (cmp < 0 || (cmp == 0 && host < otherHost))));
}
