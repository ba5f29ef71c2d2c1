using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Text;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Tpm.Software;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool bench agent</c>: quotes/s served by an in-process agent (software TPM, ECC P-256 AK) over HTTPS with
/// keep-alive, 24 sha256 PCRs, no logs; p50/p99 latency; the process RSS at idle after start-up.
/// Client and agent share the machine, so the number is a lower bound for the agent alone.
/// </summary>
internal static class BenchAgentCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Measuring time", DefaultValueFactory = _ => 5 };
        var connections = new Option<int>("--connections") { Description = "Concurrent keep-alive connections", DefaultValueFactory = _ => 8 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var url = new Option<string?>("--url")
        {
            Description = "Load an agent running in another process instead (e.g. pinned to one core with taskset; it must run with --insecure-no-client-auth)",
        };
        var cmd = new Command("agent", "Agent quote throughput and latency over HTTPS keep-alive (software TPM, 24 sha256 PCRs).") { seconds, connections, json, url };
        cmd.SetAction(p => CliSupport.Run(() =>
        {
            var s = p.GetValue(seconds);
            var c = p.GetValue(connections);
            if (s is <= 0 or > 3600 || c is < 1 or > 1024)
            {
                throw new CliUsageException("--seconds must be in (0, 3600] and --connections in 1..1024");
            }

            var target = p.GetValue(url);
            if (target is not null && (!Uri.TryCreate(target, UriKind.Absolute, out var u) || u.Scheme != Uri.UriSchemeHttps))
            {
                throw new CliUsageException($"--url '{target}': expected an https:// URL");
            }

            return RunAsync(TimeSpan.FromSeconds(s), c, p.GetValue(json), target is null ? null : new Uri(target.TrimEnd('/') + "/")).GetAwaiter().GetResult();
        }));
        return cmd;
    }

    private static async Task<int> RunAsync(TimeSpan duration, int connections, bool json, Uri? external)
    {
        var data = Directory.CreateTempSubdirectory("trustpool-bench-agent-").FullName;
        try
        {
            // TLS without client certificates: with keep-alive the handshake happens once per connection either way.
            var options = new AgentOptions
            {
                Urls = "https://127.0.0.1:0",
                InsecureNoClientAuth = true,
                DataDirectory = data,
                MaxQueuedTpmRequests = connections * 2,
            };
            await using var host = external is null ? await AgentHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Error)) : null;
            host?.AddAgent("", SoftwareTpm.CreateInMemory(), "bench");
            using var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = connections,
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            };
            using var http = new HttpClient(handler) { BaseAddress = external ?? host!.Addresses[0], DefaultRequestVersion = HttpVersion.Version11 };
            var body = Encoding.UTF8.GetBytes("{\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"selection\":{\"sha256\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]}}");

            // Warm up (JIT, connections), then idle RSS.
            await RunLoadAsync(http, body, connections, TimeSpan.FromSeconds(1));
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            await Task.Delay(500);
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            var idleRssMb = self.WorkingSet64 / (1024.0 * 1024.0);

            var (latencies, failures) = await RunLoadAsync(http, body, connections, duration);
            latencies.Sort();
            var perSecond = latencies.Count / duration.TotalSeconds;
            var p50 = Percentile(latencies, 0.50);
            var p99 = Percentile(latencies, 0.99);
            if (json)
            {
                CliSupport.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("processorCount", Environment.ProcessorCount);
                    w.WriteNumber("connections", connections);
                    w.WriteNumber("seconds", duration.TotalSeconds);
                    w.WriteNumber("quotes", latencies.Count);
                    w.WriteNumber("failures", failures);
                    w.WriteNumber("quotesPerSecond", Math.Round(perSecond));
                    w.WriteNumber("p50Ms", Math.Round(p50, 3));
                    w.WriteNumber("p99Ms", Math.Round(p99, 3));
                    if (external is null)
                    {
                        w.WriteNumber("idleRssMb", Math.Round(idleRssMb, 1));
                    }
                    else
                    {
                        w.WriteString("url", external.ToString());
                    }
                    w.WriteEndObject();
                });
            }
            else
            {
                Console.WriteLine(external is null
                    ? $"agent quotes (24 sha256 PCRs, ECC P-256 AK, software TPM, {connections} keep-alive HTTPS connections, {Environment.ProcessorCount} cores shared with the client):"
                    : $"agent at {external} (24 sha256 PCRs, {connections} keep-alive HTTPS connections, agent in its own process):");
                Console.WriteLine($"  {perSecond,10:N0} quotes/s   p50 {p50:N3} ms   p99 {p99:N3} ms   failures {failures}");
                if (external is null)
                {
                    Console.WriteLine($"  process RSS at idle after start-up and warm-up (agent + bench client): {idleRssMb:N1} MB");
                }
            }

            return failures == 0 ? Program.ExitOk : Program.ExitRejected;
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<(List<double> Latencies, int Failures)> RunLoadAsync(HttpClient http, byte[] body, int connections, TimeSpan duration)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var failures = 0;
        var workers = Enumerable.Range(0, connections).Select(async _ =>
        {
            var mine = new List<double>(1 << 16);
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync("v1/quote", content);
                await response.Content.LoadIntoBufferAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
                else
                {
                    if (Interlocked.Increment(ref failures) == 1)
                    {
                        await Console.Error.WriteLineAsync($"first failure: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
            }

            return mine;
        }).ToArray();
        var all = new List<double>();
        foreach (var list in await Task.WhenAll(workers))
        {
            all.AddRange(list);
        }

        return (all, failures);
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
}
