using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using TrustPool.Scheduling;
using TrustPool.Scheduling.Synthetic;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool bench place --hosts N</c>: placement latency (p50/p99/max), decisions/s on one thread and bytes
/// allocated per decision, over a deterministic synthetic host set (issue 6 performance targets). Every decision runs
/// all five filters and the three weighers; the hosts are not changed between decisions.
/// </summary>
internal static class BenchPlaceCommand
{
    public static Command Create()
    {
        var hosts = new Option<int>("--hosts") { Description = "Number of synthetic hosts", DefaultValueFactory = _ => 10_000 };
        var seconds = new Option<double>("--seconds") { Description = "Measuring time", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic host set", DefaultValueFactory = _ => 42 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var cmd = new Command("place", "Scheduler placement latency and decisions/s on one thread over N synthetic hosts (all filters, 3 weighers).") { hosts, seconds, seed, json };
        cmd.SetAction(p => CliSupport.Run(() =>
        {
            var n = p.GetValue(hosts);
            var s = p.GetValue(seconds);
            if (n is < 1 or > 10_000_000 || s is <= 0 or > 3600)
            {
                throw new CliUsageException("--hosts must be in 1..10000000 and --seconds in (0, 3600]");
            }

            return Run(n, TimeSpan.FromSeconds(s), p.GetValue(seed), p.GetValue(json));
        }));
        return cmd;
    }

    private static int Run(int hostCount, TimeSpan duration, int seed, bool json)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var generateStart = Stopwatch.GetTimestamp();
        var hosts = SyntheticHosts.Generate(hostCount, now, seed);
        var generateMs = Stopwatch.GetElapsedTime(generateStart).TotalMilliseconds;
        var requests = SyntheticHosts.Requests();
        var scheduler = new Scheduler();

        // Warm-up (tiered JIT reaches its final code), also an estimate of the rate to size the latency buffer.
        var warm = Loop(scheduler, requests, hosts, now, TimeSpan.FromSeconds(Math.Min(1.0, duration.TotalSeconds)), null, null, out _, out _);
        // Room for 4x the warm-up rate (the machine may be busier during warm-up); the run stops early if it fills.
        var capacity = (int)Math.Min(20_000_000, (warm.Count / Math.Min(1.0, duration.TotalSeconds) * duration.TotalSeconds * 4) + 100_000);
        var latencies = new long[capacity];
        var cpu = new long[capacity];
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        var gen0 = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var cpuBefore = ThreadCpuNanoseconds();
        var run = Loop(scheduler, requests, hosts, now, duration, latencies, cpu, out var placed, out var rejected);
        var cpuSeconds = (ThreadCpuNanoseconds() - cpuBefore) / 1e9;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        gen0 = GC.CollectionCount(0) - gen0;
        gen2 = GC.CollectionCount(2) - gen2;

        Array.Sort(latencies, 0, run.Count);
        Array.Sort(cpu, 0, run.Count);
        var hasCpu = cpuBefore >= 0;
        double CpuPercentile(double q) => run.Count == 0 ? 0 : cpu[Math.Min(run.Count - 1, (int)(q * run.Count))] / 1e6;
        var perCpuSecond = hasCpu && cpuSeconds > 0 ? run.Count / cpuSeconds : 0;
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double Percentile(double q) => run.Count == 0 ? 0 : Ms(latencies[Math.Min(run.Count - 1, (int)(q * run.Count))]);
        var perSecond = run.Count / run.Elapsed.TotalSeconds;
        var bytesPerDecision = run.Count == 0 ? 0 : (double)allocated / run.Count;

        // What reading one explanation costs (materialising every rejection with its reason).
        var explainStart = Stopwatch.GetTimestamp();
        var sample = scheduler.Place(requests[0], hosts, now);
        var explanation = sample.Explain();
        var explainMs = Stopwatch.GetElapsedTime(explainStart).TotalMilliseconds;

        if (json)
        {
            CliSupport.WriteJson(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("hosts", hostCount);
                w.WriteNumber("seed", seed);
                w.WriteNumber("processorCount", Environment.ProcessorCount);
                w.WriteNumber("threads", 1);
                w.WriteNumber("seconds", Math.Round(run.Elapsed.TotalSeconds, 3));
                w.WriteNumber("decisions", run.Count);
                w.WriteNumber("placed", placed);
                w.WriteNumber("rejectedHostsPerDecision", run.Count == 0 ? 0 : Math.Round((double)rejected / run.Count, 1));
                w.WriteNumber("decisionsPerSecond", Math.Round(perSecond));
                w.WriteNumber("p50Ms", Math.Round(Percentile(0.50), 4));
                w.WriteNumber("p99Ms", Math.Round(Percentile(0.99), 4));
                w.WriteNumber("maxMs", Math.Round(run.Count == 0 ? 0 : Ms(latencies[run.Count - 1]), 4));
                if (hasCpu)
                {
                    // The same, counting only this thread's CPU time (immune to other processes on a shared machine).
                    w.WriteNumber("cpuSeconds", Math.Round(cpuSeconds, 3));
                    w.WriteNumber("decisionsPerCpuSecond", Math.Round(perCpuSecond));
                    w.WriteNumber("cpuP50Ms", Math.Round(CpuPercentile(0.50), 4));
                    w.WriteNumber("cpuP99Ms", Math.Round(CpuPercentile(0.99), 4));
                    w.WriteNumber("cpuMaxMs", Math.Round(run.Count == 0 ? 0 : cpu[run.Count - 1] / 1e6, 4));
                }

                w.WriteNumber("allocatedBytesPerDecision", Math.Round(bytesPerDecision));
                w.WriteNumber("gen0Collections", gen0);
                w.WriteNumber("gen2Collections", gen2);
                w.WriteNumber("explainMs", Math.Round(explainMs, 3));
                w.WriteNumber("explainRejections", sample.Rejections.Count);
                w.WriteNumber("generateHostsMs", Math.Round(generateMs, 1));
                w.WriteEndObject();
            });
        }
        else
        {
            Console.WriteLine($"placement among {hostCount:N0} synthetic hosts (seed {seed}; all 5 filters, 3 weighers; one thread, {Environment.ProcessorCount} cores):");
            Console.WriteLine($"  {perSecond,10:N0} decisions/s   p50 {Percentile(0.50):N4} ms   p99 {Percentile(0.99):N4} ms   max {Ms(run.Count == 0 ? 0 : latencies[run.Count - 1]):N4} ms");
            if (hasCpu)
            {
                Console.WriteLine($"  thread CPU time only: {perCpuSecond,10:N0} decisions/CPU-s   p50 {CpuPercentile(0.50):N4} ms   p99 {CpuPercentile(0.99):N4} ms   max {(run.Count == 0 ? 0 : cpu[run.Count - 1] / 1e6):N4} ms   ({cpuSeconds:N2} CPU-s of {run.Elapsed.TotalSeconds:N2} s)");
            }

            Console.WriteLine($"  {bytesPerDecision:N0} B allocated per decision; GC during the run: gen0 {gen0}, gen2 {gen2}");
            Console.WriteLine($"  {placed:N0} of {run.Count:N0} placed; {(run.Count == 0 ? 0 : (double)rejected / run.Count):N0} hosts rejected per decision");
            Console.WriteLine($"  reading one explanation ({sample.Rejections.Count:N0} rejections, {explanation.Length:N0} chars): {explainMs:N2} ms");
        }

        return placed > 0 ? Program.ExitOk : Program.ExitRejected;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    // CLOCK_THREAD_CPUTIME_ID (Linux): CPU time of this thread only, so a shared, loaded machine does not count
    // the time other processes held the core. -1 where unavailable.
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec value);

    private static long ThreadCpuNanoseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }

        return ClockGetTime(3, out var t) == 0 ? (t.Seconds * 1_000_000_000L) + t.Nanoseconds : -1;
    }

    private static (int Count, TimeSpan Elapsed) Loop(
        Scheduler scheduler, WorkloadRequest[] requests, HostView[] hosts, DateTimeOffset now, TimeSpan duration, long[]? latencies,
        long[]? cpu, out long placed, out long rejected)
    {
        var c0 = ThreadCpuNanoseconds();
        placed = 0;
        rejected = 0;
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var count = 0;
        var t0 = start;
        while (t0 < stopAt && (latencies is null || count < latencies.Length))
        {
            var d = scheduler.Place(requests[count % requests.Length], hosts, now);
            var t1 = Stopwatch.GetTimestamp();
            if (latencies is not null)
            {
                latencies[count] = t1 - t0;
            }

            if (cpu is not null)
            {
                var c1 = ThreadCpuNanoseconds();
                cpu[count] = c1 - c0;
                c0 = c1;
            }

            placed += d.Placed ? 1 : 0;
            rejected += d.Rejections.Count;
            count++;
            t0 = t1;
        }

        return (count, Stopwatch.GetElapsedTime(start, t0));
    }
}
