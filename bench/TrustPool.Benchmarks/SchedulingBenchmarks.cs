using BenchmarkDotNet.Attributes;
using TrustPool.Scheduling;
using TrustPool.Scheduling.Synthetic;

namespace TrustPool.Benchmarks;

/// <summary>
/// Issue 6 performance: one placement among N synthetic hosts (70% trusted, some expired, tags country/zone), every
/// filter (trust required, pool gold, country=X, !zone=dmz, an anti-affinity group, capacity) and the three weighers.
/// Targets: 10,000 hosts p99 &lt;= 0.5 ms, 100,000 hosts p99 &lt;= 5 ms. The scheduler's host index is warm (the hosts
/// do not change between iterations), as in a service that keeps one scheduler. PlaceAndListRejections also materialises every
/// rejection with its reason, what reading the whole explanation costs.
/// Run: dotnet run -c Release --project bench/TrustPool.Benchmarks -- --filter '*SchedulingBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class SchedulingBenchmarks
{
    private static readonly DateTimeOffset s_now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly Scheduler _scheduler = new();
    private HostView[] _hosts = [];
    private WorkloadRequest[] _requests = [];
    private int _next;

    [Params(10_000, 100_000)]
    public int Hosts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _hosts = SyntheticHosts.Generate(Hosts, s_now);
        _requests = SyntheticHosts.Requests();
        _scheduler.Place(_requests[0], _hosts, s_now);
    }

    [Benchmark]
    public PlacementDecision Place() => _scheduler.Place(_requests[_next++ & 3], _hosts, s_now);

    [Benchmark]
    public int PlaceAndListRejections()
    {
        var d = _scheduler.Place(_requests[_next++ & 3], _hosts, s_now);
        var n = 0;
        foreach (var r in d.Rejections)
        {
            n += r.Reason.Length;
        }

        return n;
    }
}
