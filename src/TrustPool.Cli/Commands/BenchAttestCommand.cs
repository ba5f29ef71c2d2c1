using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using TrustPool.Server;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Hosting;
using TrustPool.Server.Observability;
using TrustPool.Server.Storage;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool bench attest</c>: one attestation service (in this process) re-attesting N simulated hosts whose
/// agents run in a child process (<c>bench attest-agents</c>) over real mutual TLS on loopback. Enrolls every host
/// (not timed), imports platform + os baselines from host 1 into a pool, then times <c>--rounds</c> full rounds of
/// the polling loop: wall time, attestations/s, p50/p99 per-attestation latency (the service's own
/// <c>trustpool.attestation.duration</c> histogram, read with a <see cref="MeterListener"/>), CPU seconds of service
/// and agents, peak RSS of both. Every host must be trusted after each round, else exit 1.
/// </summary>
internal static class BenchAttestCommand
{
    public static Command Create()
    {
        var hosts = new Option<int>("--hosts") { Description = "Simulated hosts (agents)", DefaultValueFactory = _ => 1000 };
        var database = new Option<string>("--database") { Description = "sqlite (a fresh file) or postgres:CONNSTR (a fresh schema, dropped afterwards)", DefaultValueFactory = _ => "sqlite" };
        var rounds = new Option<int>("--rounds") { Description = "Timed re-attestation rounds", DefaultValueFactory = _ => 2 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent attestations (ServerOptions.Concurrency)", DefaultValueFactory = _ => 128 };
        var listeners = new Option<int>("--listeners") { Description = "HTTPS listeners the simulated agents share", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var cmd = new Command("attest", "Re-attestation rounds of N simulated hosts (agents in a child process, real mTLS) against one service.")
        {
            hosts, database, rounds, concurrency, listeners, json,
        };
        cmd.SetAction(p => CliSupport.Run(() =>
        {
            var n = p.GetValue(hosts);
            var r = p.GetValue(rounds);
            var c = p.GetValue(concurrency);
            var l = p.GetValue(listeners);
            var db = p.GetValue(database)!;
            if (n is < 1 or > 100_000 || r is < 1 or > 100 || c is < 1 or > 10_000 || l < 1 || l > n)
            {
                throw new CliUsageException("--hosts must be 1..100000, --rounds 1..100, --concurrency 1..10000, --listeners 1..hosts");
            }

            if (db != "sqlite" && !db.StartsWith("postgres:", StringComparison.Ordinal))
            {
                throw new CliUsageException($"--database '{db}': expected sqlite or postgres:CONNSTR");
            }

            return RunAsync(new Settings(n, db, r, c, l, p.GetValue(json))).GetAwaiter().GetResult();
        }));
        return cmd;
    }

    private sealed record Settings(int Hosts, string Database, int Rounds, int Concurrency, int Listeners, bool Json);

    private sealed record RoundResult(int Round, int Attested, double Seconds, double PerSecond, double P50Ms, double P99Ms, double MaxMs,
        double ServiceCpuSeconds, double AgentCpuSeconds, long ConnectionsOpened, int Trusted, double ServicePeakRssMb, double AgentsPeakRssMb,
        double ServiceGcHeapMb);

    private static async Task<int> RunAsync(Settings s)
    {
        var work = Directory.CreateTempSubdirectory("trustpool-bench-attest-").FullName;
        string? pgSchemaConnection = null;
        Process? child = null;
        try
        {
            var database = "sqlite:trustpool.db";
            if (s.Database.StartsWith("postgres:", StringComparison.Ordinal))
            {
                pgSchemaConnection = await ScratchSchema.CreateAsync(s.Database["postgres:".Length..], "tp_bench_");
                database = "postgres:" + pgSchemaConnection;
            }

            var options = new ServerOptions
            {
                Urls = "https://127.0.0.1:0",
                DataDirectory = Path.Combine(work, "server"),
                Database = database,
                EkTrust = "tofu",
                IntervalSeconds = 0,
                Concurrency = s.Concurrency,
                RequestTimeoutSeconds = 30,
            };
            var startedAt = Stopwatch.GetTimestamp();
            await using var server = await ServerHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Error));
            var context = server.Context;

            child = StartAgents(s, server.CaCertificatePath, Path.Combine(work, "agents"));
            var agentListeners = await ReadListenersAsync(child);
            var agentsReady = Stopwatch.GetElapsedTime(startedAt);
            Status(s, $"service ({context.Store.Provider}) and {s.Hosts:N0} simulated agents on {s.Listeners} listeners ready in {agentsReady.TotalSeconds:N1} s");

            // Enrollment (not timed as part of a round): identity, AK checks, MakeCredential/ActivateCredential per host.
            var enrollStart = Stopwatch.GetTimestamp();
            await Parallel.ForEachAsync(Enumerable.Range(1, s.Hosts), new ParallelOptions { MaxDegreeOfParallelism = Math.Min(64, s.Concurrency) }, async (h, ct) =>
            {
                var (url, fingerprint) = agentListeners[(h - 1) % agentListeners.Count];
                var request = new EnrollmentRequest(BenchAttestAgentsCommand.HostName(h), new Uri(url, BenchAttestAgentsCommand.PathBase(h)), fingerprint,
                    new Dictionary<string, string>());
                await context.Enrollment.EnrollAsync(request, reEnroll: false, actor: null, ct);
            });
            var enrollSeconds = Stopwatch.GetElapsedTime(enrollStart).TotalSeconds;
            Status(s, $"enrolled {s.Hosts:N0} hosts in {enrollSeconds:N1} s ({s.Hosts / enrollSeconds:N0}/s); EK trust: tofu (simulated TPMs have no vendor EK certificates)");

            await CreatePoolAsync(server, BenchAttestAgentsCommand.HostName(1));

            using var latencies = new LatencyRecorder();
            var results = new List<RoundResult>();
            var failed = false;
            for (var round = 1; round <= s.Rounds; round++)
            {
                GC.Collect();
                latencies.Clear();
                ResetPeakRss(Environment.ProcessId);
                ResetPeakRss(child.Id);
                var connections0 = context.Agents.ConnectionsOpened;
                var serviceCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                child.Refresh();
                var agentCpu0 = child.TotalProcessorTime;
                var roundStart = context.Now;
                var t0 = Stopwatch.GetTimestamp();
                var attested = await context.Polling.RoundAsync(CancellationToken.None);
                var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                var serviceCpu = (Process.GetCurrentProcess().TotalProcessorTime - serviceCpu0).TotalSeconds;
                child.Refresh();
                var agentCpu = (child.TotalProcessorTime - agentCpu0).TotalSeconds;
                // Peak RSS of the round itself, read before this bench's own trust check loads every report.
                var servicePeak = Memory(Environment.ProcessId).PeakMb;
                var agentsPeak = Memory(child.Id).PeakMb;
                var gcHeap = GC.GetGCMemoryInfo().HeapSizeBytes / (1024.0 * 1024.0);
                var sorted = latencies.Sorted();

                var (trusted, notTrusted) = await CountTrustedSinceAsync(context.Store, roundStart.AddMilliseconds(-1));
                var result = new RoundResult(round, attested, seconds, attested / seconds, Percentile(sorted, 0.5), Percentile(sorted, 0.99),
                    sorted.Count == 0 ? 0 : sorted[^1], serviceCpu, agentCpu, context.Agents.ConnectionsOpened - connections0, trusted,
                    servicePeak, agentsPeak, gcHeap);
                results.Add(result);
                Status(s, string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: {attested:N0} attestations in {seconds:N2} s = {result.PerSecond:N0}/s, p50 {result.P50Ms:N1} ms, p99 {result.P99Ms:N1} ms; " +
                    $"CPU service {serviceCpu:N1} s, agents {agentCpu:N1} s; peak RSS service {servicePeak:N0} MB, agents {agentsPeak:N0} MB; " +
                    $"new TLS connections {result.ConnectionsOpened}; trusted {trusted:N0}/{s.Hosts:N0}"));
                if (trusted != s.Hosts || attested != s.Hosts)
                {
                    failed = true;
                    await Console.Error.WriteLineAsync($"error: round {round}: {trusted} of {s.Hosts} hosts have a trusted report from this round ({attested} attested; " +
                        $"agent failures: {latencies.Failures()}; a host whose agent did not answer keeps its previous, still valid report)" +
                        (notTrusted is null ? "" : $"; e.g. {notTrusted}"));
                }
            }

            var serviceRss = Memory(Environment.ProcessId);
            var agentRss = Memory(child.Id);
            Report(s, results, enrollSeconds, serviceRss, agentRss, context.Store.Provider);
            return failed ? Program.ExitRejected : Program.ExitOk;
        }
        finally
        {
            if (child is not null)
            {
                try
                {
                    child.StandardInput.Close();
                    if (!child.WaitForExit(30_000))
                    {
                        child.Kill(entireProcessTree: true);
                    }
                }
                catch (InvalidOperationException)
                {
                }

                child.Dispose();
            }

            if (pgSchemaConnection is not null)
            {
                await ScratchSchema.DropAsync(pgSchemaConnection, "tp_bench_");
            }

            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void Status(Settings s, string line)
    {
        if (s.Json)
        {
            Console.Error.WriteLine(line);
        }
        else
        {
            Console.WriteLine(line);
        }
    }

    /// <summary>The agents' process: this same CLI (apphost, or <c>dotnet trustpool.dll</c>) with the hidden verb.</summary>
    private static Process StartAgents(Settings s, string serviceCa, string dir)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath ?? "dotnet",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (string.Equals(Path.GetFileNameWithoutExtension(start.FileName), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        foreach (var a in new[] { "bench", "attest-agents", "--hosts", s.Hosts.ToString(CultureInfo.InvariantCulture), "--listeners",
                     s.Listeners.ToString(CultureInfo.InvariantCulture), "--service-ca", serviceCa, "--dir", dir })
        {
            start.ArgumentList.Add(a);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the agents' process");
    }

    private static async Task<List<(Uri Url, string Fingerprint)>> ReadListenersAsync(Process child)
    {
        var listeners = new List<(Uri, string)>();
        while (await child.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line == "READY")
            {
                return listeners;
            }

            var parts = line.Split(' ');
            if (parts is ["LISTENER", var url, var fingerprint])
            {
                listeners.Add((new Uri(url), fingerprint));
            }
        }

        throw new InvalidOperationException($"the agents' process ended before it was ready (exit code {(child.HasExited ? child.ExitCode : -1)})");
    }

    /// <summary>Platform + os baselines imported from <paramref name="referenceHost"/> and pool <c>bench</c> requiring both, over the service API.</summary>
    private static async Task CreatePoolAsync(ServerHost server, string referenceHost)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(server.CaCertificatePath);
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var c = cert is null ? null : new X509Certificate2(cert);
                    return c is not null && chain.Build(c);
                },
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = server.Addresses[0] };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(server.AdminTokenPath)).Trim());
        await PostAsync(http, "/v1/baselines/import", new JsonObject { ["fromHost"] = referenceHost, ["kinds"] = new JsonArray("platform", "os"), ["name"] = "bench" });
        await PostAsync(http, "/v1/pools", new JsonObject
        {
            ["name"] = "bench",
            ["require"] = new JsonObject { ["platform"] = new JsonArray("bench-platform"), ["os"] = new JsonArray("bench-os") },
        });
        foreach (var r in roots)
        {
            r.Dispose();
        }
    }

    private static async Task PostAsync(HttpClient http, string path, JsonNode body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>
    /// Hosts with a trusted report verified at or after <paramref name="since"/>, counted in the database (loading every
    /// report here would inflate the service process's memory, which this tool measures), and one report that is not trusted.
    /// </summary>
    private static async Task<(int Trusted, string? Example)> CountTrustedSinceAsync(ITrustStore store, DateTimeOffset since)
    {
        var trusted = await store.CountTrustedHostsSinceAsync(since);
        var example = await store.FindNotTrustedReportSinceAsync(since);
        var text = example is null ? null : $"{example.Host}: {example.Trust}: {example.PayloadJson[..Math.Min(example.PayloadJson.Length, 600)]}";
        return (trusted, text);
    }

    /// <summary>Linux: writing 5 to /proc/PID/clear_refs resets the peak RSS (VmHWM) to the current RSS.</summary>
    private static void ResetPeakRss(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or not allowed: the peak is then the process's lifetime peak.
        }
    }

    /// <summary>(VmHWM, VmRSS) in MB from /proc/PID/status; zeros where /proc is not available.</summary>
    private static (double PeakMb, double CurrentMb) Memory(int pid)
    {
        try
        {
            double peak = 0, current = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kb(line) / 1024.0;
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    current = Kb(line) / 1024.0;
                }
            }

            return (peak, current);
        }
        catch (IOException)
        {
            return (0, 0);
        }

        static long Kb(string line) => long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];

    private static void Report(Settings s, List<RoundResult> results, double enrollSeconds, (double PeakMb, double CurrentMb) service,
        (double PeakMb, double CurrentMb) agents, string provider)
    {
        var last = results[^1];
        if (s.Json)
        {
            CliSupport.WriteJson(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("hosts", s.Hosts);
                w.WriteString("database", provider);
                w.WriteNumber("processorCount", Environment.ProcessorCount);
                w.WriteNumber("concurrency", s.Concurrency);
                w.WriteNumber("listeners", s.Listeners);
                w.WriteString("ekTrust", "tofu");
                w.WriteNumber("enrollSeconds", Math.Round(enrollSeconds, 2));
                w.WriteNumber("roundSeconds", Math.Round(last.Seconds, 3));
                w.WriteNumber("attestationsPerSecond", Math.Round(last.PerSecond));
                w.WriteNumber("p50Ms", Math.Round(last.P50Ms, 2));
                w.WriteNumber("p99Ms", Math.Round(last.P99Ms, 2));
                w.WriteNumber("serviceCpuSeconds", Math.Round(last.ServiceCpuSeconds, 2));
                w.WriteNumber("agentCpuSeconds", Math.Round(last.AgentCpuSeconds, 2));
                w.WriteNumber("trusted", last.Trusted);
                w.WriteNumber("servicePeakRssMb", Math.Round(last.ServicePeakRssMb, 1));
                w.WriteNumber("serviceRssMb", Math.Round(service.CurrentMb, 1));
                w.WriteNumber("serviceGcHeapMb", Math.Round(last.ServiceGcHeapMb, 1));
                w.WriteNumber("agentsPeakRssMb", Math.Round(last.AgentsPeakRssMb, 1));
                w.WriteNumber("agentsRssMb", Math.Round(agents.CurrentMb, 1));
                w.WriteStartArray("rounds");
                foreach (var r in results)
                {
                    w.WriteStartObject();
                    w.WriteNumber("round", r.Round);
                    w.WriteNumber("attested", r.Attested);
                    w.WriteNumber("trusted", r.Trusted);
                    w.WriteNumber("seconds", Math.Round(r.Seconds, 3));
                    w.WriteNumber("attestationsPerSecond", Math.Round(r.PerSecond));
                    w.WriteNumber("p50Ms", Math.Round(r.P50Ms, 2));
                    w.WriteNumber("p99Ms", Math.Round(r.P99Ms, 2));
                    w.WriteNumber("maxMs", Math.Round(r.MaxMs, 2));
                    w.WriteNumber("serviceCpuSeconds", Math.Round(r.ServiceCpuSeconds, 2));
                    w.WriteNumber("agentCpuSeconds", Math.Round(r.AgentCpuSeconds, 2));
                    w.WriteNumber("newTlsConnections", r.ConnectionsOpened);
                    w.WriteNumber("servicePeakRssMb", Math.Round(r.ServicePeakRssMb, 1));
                    w.WriteNumber("agentsPeakRssMb", Math.Round(r.AgentsPeakRssMb, 1));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
            return;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{s.Hosts:N0} hosts on {provider}, {Environment.ProcessorCount} cores, concurrency {s.Concurrency}: last round {last.Seconds:N2} s, " +
            $"{last.PerSecond:N0} attestations/s, p50 {last.P50Ms:N1} ms, p99 {last.P99Ms:N1} ms"));
        var cpu = last.ServiceCpuSeconds + last.AgentCpuSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU: service {last.ServiceCpuSeconds:N1} s ({100 * last.ServiceCpuSeconds / Math.Max(cpu, 1e-9):N0} %), agents {last.AgentCpuSeconds:N1} s; " +
            $"RSS service {service.CurrentMb:N0} MB (peak in the round {last.ServicePeakRssMb:N0}, GC heap {last.ServiceGcHeapMb:N0}), " +
            $"agents {agents.CurrentMb:N0} MB (peak in the round {last.AgentsPeakRssMb:N0})"));
    }

    /// <summary>Per-attestation latencies from the service's <c>trustpool.attestation.duration</c> histogram (seconds).</summary>
    private sealed class LatencyRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _ms = new(1 << 14);
        private readonly Lock _lock = new();
        private readonly Dictionary<string, long> _failures = new(StringComparer.Ordinal);

        public LatencyRecorder()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ServerMetrics.MeterName && instrument.Name is "trustpool.attestation.duration" or "trustpool.agent.failures")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
            {
                lock (_lock)
                {
                    _ms.Add(seconds * 1000);
                }
            });
            _listener.SetMeasurementEventCallback<long>((_, n, tags, _) =>
            {
                var kind = tags.Length > 0 ? tags[0].Value?.ToString() ?? "?" : "?";
                lock (_lock)
                {
                    _failures[kind] = _failures.GetValueOrDefault(kind) + n;
                }
            });
            _listener.Start();
        }

        public void Clear()
        {
            lock (_lock)
            {
                _ms.Clear();
                _failures.Clear();
            }
        }

        /// <summary>Agent failures since <see cref="Clear"/> by kind (the service's <c>trustpool.agent.failures</c> counter).</summary>
        public string Failures()
        {
            lock (_lock)
            {
                return _failures.Count == 0 ? "none" : string.Join(", ", _failures.Select(kv => $"{kv.Key} {kv.Value}"));
            }
        }

        public List<double> Sorted()
        {
            lock (_lock)
            {
                var copy = new List<double>(_ms);
                copy.Sort();
                return copy;
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
