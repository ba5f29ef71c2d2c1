using System.Buffers.Text;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Spectre.Console;
using TrustPool.Audit.Compliance;
using TrustPool.Audit.Exports;
using TrustPool.Cli.Commands.Admin;
using TrustPool.Server.OpenStack;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool demo [--hosts N] [--keep] [--urls URL]</c>: the all-in-one walk-through on the real attestation service,
/// in one process on loopback. Software TPM hosts (two hardware models x two OS versions, DE and FR) are enrolled,
/// baselined, pooled, attested and scheduled on; one host that runs a trust-required workload is tampered, caught with
/// the PCR and the first differing event, and its workloads get an evacuation plan. The demo talks to the service only
/// over its HTTPS API with the admin token, as an operator would.
/// </summary>
internal static class DemoCommand
{
    private const string EuPool = "eu-trusted";
    private const string AnyPool = "any-trusted";

    /// <summary>A host whose TPM's EK certificate comes from a vendor CA the service does not know.</summary>
    private const string RogueHost = "rogue-01";

    /// <summary>With --keep, how often the demo attests every host again by default (reports are valid for 300 s).</summary>
    private const int DefaultReattestSeconds = 60;

    /// <summary>Redirected output is read by scripts and tests: tables get this many columns instead of the 80 Spectre assumes.</summary>
    private const int RedirectedWidth = 200;

    public static Command Create()
    {
        var hosts = new Option<int>("--hosts") { Description = "Number of simulated hosts (2..64)", DefaultValueFactory = _ => 6 };
        var keep = new Option<bool>("--keep") { Description = "Keep the service running after the walk-through, until Ctrl+C" };
        var reattest = new Option<int>("--reattest")
        {
            Description = "With --keep: attest every host again every N seconds so reports stay current (0: never)",
            DefaultValueFactory = _ => DefaultReattestSeconds,
        };
        var urls = new Option<string>("--urls") { Description = "Where the service listens (loopback only)", DefaultValueFactory = _ => "https://127.0.0.1:0" };
        var cmd = new Command("demo", "All-in-one demo on the real service: software TPM hosts are enrolled, attested and scheduled on; one is tampered and caught.")
        {
            hosts, keep, reattest, urls,
        };
        cmd.SetAction(p => CliSupport.Run(() => RunAsync(p.GetValue(hosts), p.GetValue(keep), p.GetValue(urls)!, reattestSeconds: p.GetValue(reattest)).GetAwaiter().GetResult()));
        return cmd;
    }

    /// <summary>
    /// The walk-through; with <paramref name="keep"/> the service stays up until Ctrl+C, or while
    /// <paramref name="whileKept"/> runs when one is given (in-process tests), then stops and cleans up as on Ctrl+C.
    /// </summary>
    internal static async Task<int> RunAsync(int hostCount, bool keep, string urls, Func<DemoKept, Task>? whileKept = null, int reattestSeconds = 0)
    {
        if (reattestSeconds is < 0 or > 280)
        {
            throw new CliUsageException("--reattest must be 0..280 seconds (reports are valid for 300 s)");
        }

        if (hostCount is < 2 or > 64)
        {
            throw new CliUsageException("--hosts must be 2..64 (one host is tampered, the others stay trusted)");
        }

        CheckLoopback(urls);
        ConfigureConsole();
        var total = Stopwatch.StartNew();
        AnsiConsole.MarkupLine("[bold]TrustPool demo[/]: the attestation service, its agents and software TPMs in this process; nothing leaves loopback.");
        AnsiConsole.MarkupLine("[yellow]warning:[/] the TPM backend is a simulator (software TPM); never use it for production trust.");

        var work = Directory.CreateTempSubdirectory("trustpool-demo-");
        try
        {
            var ekCa = Path.Combine(work.FullName, "ek-ca");
            var vendor = DemoAgents.CreateVendorCa(ekCa);
            // Each TPM's RSA EK and EK certificate are made while the service starts (the slowest part of the set-up).
            var fleet = Enumerable.Range(1, hostCount).Select(i =>
            {
                var (hardware, os, country) = DemoCatalog.Assign(i);
                var name = $"host-{i:00}";
                return (Name: name, Hardware: hardware, Os: os, Country: country,
                    Tpm: Task.Run(() => DemoAgents.Prepare(work.FullName, name, vendor, DemoCatalog.Boot(hardware, os))));
            }).ToList();
            var rogue = Task.Run(() =>
            {
                var unknown = DemoAgents.CreateVendorCa(Path.Combine(work.FullName, "unknown-ca"), "CN=Unknown TPM vendor CA");
                using (unknown.Key)
                using (unknown.Certificate)
                {
                    return DemoAgents.Prepare(work.FullName, RogueHost, unknown, DemoCatalog.Boot(DemoCatalog.Hardware[0], DemoCatalog.Os[0]));
                }
            });
            await using var service = await DemoService.StartAsync(work.FullName, urls, ekCa);
            await using var agents = await DemoAgents.StartAsync(work.FullName, service.Server.CaCertificatePath, vendor);
            var hosts = new DemoHost[hostCount];
            for (var i = 0; i < hostCount; i++)
            {
                var f = fleet[i];
                hosts[i] = agents.Add(f.Name, f.Hardware, f.Os, f.Country, await f.Tpm);
            }

            AnsiConsole.MarkupLine($"attestation service at [bold]{Markup.Escape(Origin(service.Address))}[/] (SQLite in {Markup.Escape(work.FullName)}, attestation on demand).");
            AnsiConsole.MarkupLine($"{hosts.Length} agents at [bold]{Markup.Escape(agents.BaseAddress.ToString())}agents/NAME/[/], mutual TLS with client certificates from the service CA.");

            var walk = new Walkthrough(service.Api, agents, hosts);
            await walk.EnrollAsync();
            await walk.ImportBaselinesAsync();
            await walk.CreatePoolsAsync();
            await walk.AttestAllAsync();
            await walk.PlaceAsync();
            walk.ShowTraits();
            var victim = await walk.TamperAsync();
            var evacuations = await walk.EvacuateAsync(victim);
            await walk.AttacksAsync(victim, agents.Add(RogueHost, DemoCatalog.Hardware[0], DemoCatalog.Os[0], "DE", await rogue));
            await walk.AuditAsync(victim);

            AnsiConsole.WriteLine();
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"[bold]demo complete[/] in {total.Elapsed.TotalSeconds:0.0} s: {hosts.Length - 1} trusted, 1 untrusted ({victim.Name}); {evacuations} workload(s) to evacuate."));
            if (keep)
            {
                // The dashboard only reads: it gets a reader token of its own, made through the API like any other.
                var reader = await service.Api.PostAsync("v1/tokens", new JsonObject { ["role"] = "reader", ["name"] = "dashboard" });
                var readerToken = Str(reader, "token");
                AnsiConsole.MarkupLine($"service at [bold]{Markup.Escape(Origin(service.Address))}[/] (admin token: {Markup.Escape(service.Server.AdminTokenPath)})");
                AnsiConsole.MarkupLine(Markup.Escape($"  e.g. trustpool host list --server {Origin(service.Address)} --token @{service.Server.AdminTokenPath} --ca-file {service.Server.CaCertificatePath}"));
                var validity = service.Server.Context.Options.ReportValiditySeconds.ToString(CultureInfo.InvariantCulture);
                AnsiConsole.MarkupLine(reattestSeconds > 0
                    ? $"  (a report expires {validity} s after it was made; until Ctrl+C the demo attests every host again every {reattestSeconds.ToString(CultureInfo.InvariantCulture)} s, so the dashboard stays current)"
                    : $"  (attestation is on demand: a report expires {validity} s after it was made unless the host is attested again)");
                AnsiConsole.MarkupLine(Markup.Escape($"  the browser will warn about the certificate: it is from the demo's own service CA ({service.Server.CaCertificatePath})"));
                AnsiConsole.MarkupLine($"dashboard at [bold]{Markup.Escape(Origin(service.Address))}/[/] (reader token: {Markup.Escape(readerToken)}), Ctrl+C to stop");
                if (whileKept is not null)
                {
                    await whileKept(new DemoKept(new Uri(Origin(service.Address)), readerToken, service.Server.CaCertificatePath, service.Server.AdminTokenPath,
                        victim.Name, [.. hosts.Select(h => h.Name)]));
                }
                else
                {
                    using var stopped = new CancellationTokenSource();
                    var attesting = reattestSeconds > 0 ? KeepAttestedAsync(service.Api, hosts, TimeSpan.FromSeconds(reattestSeconds), stopped.Token) : Task.CompletedTask;
                    await WaitForStopAsync();
                    await stopped.CancelAsync();
                    await attesting;
                }
            }

            return Program.ExitOk;
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// With <c>--keep</c> the service attests on demand only (interval 0, so the walk-through decides when): the demo asks
    /// for every host's attestation again on a timer, as an operator's poller would, so reports never run out while
    /// someone looks at the dashboard. The tampered host stays untrusted: its TPM keeps reporting the modified boot.
    /// </summary>
    private static async Task KeepAttestedAsync(ServiceClient api, DemoHost[] hosts, TimeSpan every, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(every, ct);
                foreach (var h in hosts)
                {
                    ct.ThrowIfCancellationRequested();
                    try
                    {
                        await api.PostAsync($"v1/hosts/{h.Name}/attest", null);
                    }
                    catch (ServiceRefusedException e)
                    {
                        Console.Error.WriteLine($"re-attesting {h.Name}: {e.Message}");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The demo's service and agents have throw-away keys and an admin token on disk: they stay on loopback.</summary>
    private static void CheckLoopback(string urls)
    {
        foreach (var u in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                throw new CliUsageException($"--urls '{u}' is not an https URL");
            }

            if (!(uri.IsLoopback && (uri.Host == "localhost" || IPAddress.TryParse(uri.Host.Trim('[', ']'), out _))))
            {
                throw new CliUsageException($"--urls '{u}': the demo listens on loopback only (127.0.0.1, [::1] or localhost)");
            }
        }
    }

    /// <summary>
    /// Spectre.Console decides ANSI support from TERM alone on Linux (not from whether stdout is a terminal), so piped
    /// output would still carry escape codes and the progress bar's redraws: when stdout is redirected the demo writes
    /// plain text, no colours, no live widgets, at a fixed width.
    /// </summary>
    private static void ConfigureConsole()
    {
        if (!Console.IsOutputRedirected)
        {
            return;
        }

        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        AnsiConsole.Profile.Width = RedirectedWidth;
    }

    private static async Task WaitForStopAsync()
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string Origin(Uri u) => $"{u.Scheme}://{u.Authority}";

    /// <summary>The walk-through's steps, each one HTTPS request after another to the service's /v1 API.</summary>
    private sealed class Walkthrough(ServiceClient api, DemoAgents agents, DemoHost[] hosts)
    {
        private readonly Dictionary<string, JsonNode> _reports = new(StringComparer.Ordinal);
        private readonly List<JsonNode> _placements = [];

        public async Task EnrollAsync()
        {
            Section("1. enroll: POST /v1/hosts; the service checks each EK certificate against the vendor CA and proves the AK lives beside the EK");
            var enrolled = new System.Collections.Concurrent.ConcurrentDictionary<string, JsonNode>(StringComparer.Ordinal);
            async Task One(DemoHost h)
            {
                enrolled[h.Name] = await api.PostAsync("v1/hosts", new JsonObject
                {
                    ["name"] = h.Name,
                    ["agentUrl"] = h.AgentUrl.ToString(),
                    ["agentCertFingerprint"] = agents.TlsFingerprint,
                    ["tags"] = new JsonObject { ["country"] = h.Country },
                });
            }

            // Enrollment waits on the agents' TPMs (RSA EK decryption): a few at a time keeps both sides busy.
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = 4 };
            if (AnsiConsole.Profile.Capabilities.Interactive)
            {
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("enrolling", maxValue: hosts.Length);
                    await Parallel.ForEachAsync(hosts, parallel, async (h, _) =>
                    {
                        await One(h);
                        task.Increment(1);
                    });
                });
            }
            else
            {
                await Parallel.ForEachAsync(hosts, parallel, async (h, _) => await One(h));
            }

            var table = new Table().AddColumns("host", "hardware", "OS", "tags", "EK certificate", "AK name", "state");
            foreach (var h in hosts)
            {
                var e = enrolled[h.Name];
                table.AddRow(h.Name, Markup.Escape(h.Hardware.Name), Markup.Escape(h.Os.Name), $"country={h.Country}",
                    Str(e, "ekCertificate") == "true" ? $"demo vendor CA (EK trust {Str(e, "ekTrust")})" : "none",
                    Str(e, "akName")[..12] + "..", Str(e, "state") == "enrolled" ? "[green]enrolled[/]" : $"[red]{Markup.Escape(Str(e, "state"))}[/]");
            }

            AnsiConsole.Write(table);
        }

        public async Task ImportBaselinesAsync()
        {
            Section("2. baselines: POST /v1/baselines/import from one reference host per hardware model (platform) and per OS version (os)");
            var table = new Table().AddColumns("baseline", "kind", "from host", "for", "PCRs");
            var platformOf = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
            foreach (var hw in DemoCatalog.Hardware)
            {
                var reference = hosts.First(h => h.Hardware == hw);
                await ImportAsync(reference, "platform", hw.Baseline);
                platformOf[reference.Name] = await api.GetAsync($"v1/baselines/{hw.Baseline}");
            }

            foreach (var os in DemoCatalog.Os)
            {
                await ImportAsync(hosts.First(h => h.Os == os), "os", os.Baseline);
            }

            var osRows = new List<string[]>();
            // The uefi template puts PCR 4 (boot manager code) in "platform", but PCR 4 measures the boot loader and kernel
            // images, which come with the OS here: the os baselines take it (from their reference host), the platform ones drop it.
            foreach (var os in DemoCatalog.Os)
            {
                var reference = hosts.First(h => h.Os == os);
                var pcr4 = platformOf.TryGetValue(reference.Name, out var p) ? Pcrs(p).Where(x => Int(x, "index") == 4).ToList() : [];
                if (pcr4.Count == 0)
                {
                    throw new InvalidOperationException($"no platform baseline from {reference.Name} to take PCR 4 of {os.Baseline} from");
                }

                var doc = (await api.GetAsync($"v1/baselines/{os.Baseline}")).AsObject();
                var pcrs = Pcrs(doc).Select(x => x.DeepClone()).Concat(pcr4.Select(x => x.DeepClone()));
                doc["pcrs"] = new JsonArray([.. pcrs]);
                var saved = await api.PutAsync($"v1/baselines/{os.Baseline}", doc);
                osRows.Add([os.Baseline, "os", reference.Name, Markup.Escape(os.Name), $"{Indices(doc)} (v{Str(saved, "version")})"]);
            }

            foreach (var hw in DemoCatalog.Hardware)
            {
                var doc = platformOf[hosts.First(h => h.Hardware == hw).Name].AsObject();
                doc["pcrs"] = new JsonArray([.. Pcrs(doc).Where(x => Int(x, "index") != 4).Select(x => x.DeepClone())]);
                var saved = await api.PutAsync($"v1/baselines/{hw.Baseline}", doc);
                table.AddRow(hw.Baseline, "platform", Str(doc, "fromHost"), Markup.Escape(hw.Name), $"{Indices(doc)} (v{Str(saved, "version")})");
            }

            foreach (var row in osRows)
            {
                table.AddRow(row);
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("PCR 4 (boot loader and kernel images) moved from the platform to the os baselines: PUT /v1/baselines/NAME makes version 2.");
        }

        private async Task ImportAsync(DemoHost reference, string kind, string name) =>
            await api.PostAsync("v1/baselines/import", new JsonObject { ["fromHost"] = reference.Name, ["kinds"] = new JsonArray(kind), ["name"] = name });

        public async Task CreatePoolsAsync()
        {
            Section("3. pools: POST /v1/pools");
            var platforms = DemoCatalog.Hardware.Select(h => h.Baseline).ToArray();
            var oses = DemoCatalog.Os.Select(o => o.Baseline).ToArray();
            var table = new Table().AddColumns("pool", "platform (any of)", "os (any of)", "tags");
            foreach (var (name, country) in new[] { (EuPool, "DE"), (AnyPool, (string?)null) })
            {
                var tags = new JsonObject();
                if (country is not null)
                {
                    tags["country"] = country;
                }

                await api.PostAsync("v1/pools", new JsonObject
                {
                    ["name"] = name,
                    ["require"] = new JsonObject
                    {
                        ["platform"] = new JsonArray([.. platforms.Select(p => (JsonNode)p)]),
                        ["os"] = new JsonArray([.. oses.Select(o => (JsonNode)o)]),
                        ["tags"] = tags,
                    },
                });
                table.AddRow(name, string.Join(", ", platforms), string.Join(", ", oses), country is null ? "-" : $"country={country}");
            }

            AnsiConsole.Write(table);
        }

        public async Task AttestAllAsync()
        {
            Section("4. attest: POST /v1/hosts/NAME/attest (nonce, quote, verify, replay the event log, evaluate against the pools)");
            var reports = new System.Collections.Concurrent.ConcurrentDictionary<string, JsonNode>(StringComparer.Ordinal);
            await Parallel.ForEachAsync(hosts, new ParallelOptions { MaxDegreeOfParallelism = 4 },
                async (h, _) => reports[h.Name] = await api.PostAsync($"v1/hosts/{h.Name}/attest", null));
            var table = new Table().AddColumns("host", "trust", "pools trusted in", "reason");
            foreach (var h in hosts)
            {
                var r = _reports[h.Name] = reports[h.Name];
                table.AddRow(h.Name, Trust(r), string.Join(", ", TrustedPools(r)), Markup.Escape(Reason(r)));
            }

            AnsiConsole.Write(table);
            if (hosts.FirstOrDefault(h => Str(_reports[h.Name], "trust") != "trusted") is { } bad)
            {
                throw new InvalidOperationException($"{bad.Name} should be trusted: {Reason(_reports[bad.Name])}");
            }
        }

        public async Task PlaceAsync()
        {
            Section("5. schedule: PUT /v1/hosts/NAME/inventory, then POST /v1/placements");
            for (var i = 0; i < hosts.Length; i++)
            {
                await api.PutAsync($"v1/hosts/{hosts[i].Name}/inventory", new JsonObject
                {
                    ["vcpus"] = 16, ["memoryMb"] = 65536, ["diskGb"] = 500, ["idleWatts"] = 80 + (10 * (i % 3)), ["peakWatts"] = 350,
                    ["load"] = 0.05 * (i % 4), ["performance"] = 1.0,
                });
            }

            var workloads = new[]
            {
                Workload("payments-db", 8, "required", [EuPool], ["country=DE"]),
                Workload("payments-api-1", 2, "required", [], ["country=DE"], antiAffinity: "payments-api"),
                Workload("payments-api-2", 2, "required", [], ["country=DE"], antiAffinity: "payments-api"),
                Workload("ledger", 4, "required", [EuPool], ["country=DE"]),
                Workload("ci-runner", 4, "required", [AnyPool], []),
                Workload("batch-report", 2, "preferred", [], []),
            };
            var table = new Table().AddColumns("workload", "asks for", "host", "report relied on", "hosts filtered out");
            foreach (var w in workloads)
            {
                var p = await api.PostAsync("v1/placements", w);
                _placements.Add(p);
                var rejections = p["decision"]?["rejections"]?.AsArray() ?? [];
                var filtered = rejections.GroupBy(r => Str(r!, "filter")).Select(g => $"{g.Count()} by {g.Key}");
                table.AddRow(Str(p, "workload"), Markup.Escape(Asks(w)), Str(p, "host"), Short(Str(p, "reportId")), rejections.Count == 0 ? "-" : Markup.Escape(string.Join(", ", filtered)));
            }

            AnsiConsole.Write(table);
        }

        public void ShowTraits()
        {
            Section("6. OpenStack Placement traits per host");
            AnsiConsole.MarkupLine("what [bold]trustpool server --openstack-placement URL[/] would set on each host's resource provider (no OpenStack here: nothing is sent):");
            var table = new Table().AddColumns("host", "traits");
            foreach (var h in hosts)
            {
                var r = _reports[h.Name];
                var traits = PlacementTraits.Desired(Str(r, "trust") == "trusted", h.Tags, TrustedPools(r));
                table.AddRow(h.Name, string.Join(" ", traits));
            }

            AnsiConsole.Write(table);
        }

        /// <summary>Picks a host running a trust-required workload, reboots it with an implant in its firmware and re-attests it.</summary>
        public async Task<DemoHost> TamperAsync()
        {
            // Prefer the first hardware model: the pools list its baseline first, which is the one faults are reported against.
            var victim = hosts
                .Where(h => _placements.Any(p => Str(p, "host") == h.Name && Str(p["request"]!, "trust") == "required"))
                .OrderBy(h => h.Hardware == DemoCatalog.Hardware[0] ? 0 : 1)
                .ThenByDescending(h => _placements.Count(p => Str(p, "host") == h.Name))
                .First();
            Section($"7. tamper: {victim.Name} reboots with a modified firmware volume, then POST /v1/hosts/{victim.Name}/attest");
            DemoAgents.Reboot(victim, DemoCatalog.Tampered(victim.Hardware, victim.Os));
            var r = _reports[victim.Name] = await api.PostAsync($"v1/hosts/{victim.Name}/attest", null);
            if (Str(r, "trust") != "untrusted")
            {
                throw new InvalidOperationException($"the tampered host {victim.Name} was not caught: {Str(r, "trust")}");
            }

            var evidence = (r["faults"]?.AsArray() ?? []).All(f => Str(f!, "code") == "NoPoolMatched");
            AnsiConsole.MarkupLine(evidence
                ? "quote, nonce and event log: [green]verified[/] (the TPM is honest: it reports what booted)"
                : $"evidence: [red]{Markup.Escape(Reason(r))}[/]");
            var shown = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (rule, fault) in RuleFaults(r))
            {
                var line = $"{Str(fault, "message")} ({Str(rule, "rule")} baseline {Str(rule, "baseline")} v{Str(rule, "baselineVersion")})";
                if (Str(fault, "code") == "PcrMismatch" && shown.Add(line))
                {
                    AnsiConsole.MarkupLine($"[red]UNTRUSTED[/] {victim.Name}: {Markup.Escape(line)}");
                }
            }

            var traits = PlacementTraits.Desired(false, victim.Tags, TrustedPools(r));
            AnsiConsole.MarkupLine($"report {Short(Str(r, "id"))} (signed): trusted in no pool; Placement traits now: {(traits.Count == 0 ? "none (every CUSTOM_TRUSTPOOL_* trait removed)" : string.Join(" ", traits))}");
            return victim;
        }

        public async Task<int> EvacuateAsync(DemoHost victim)
        {
            // Planned as an operator would, so the audit log holds the plan (reading it with GET records nothing).
            Section("8. evacuation plan: POST /v1/evacuations (recorded)");
            var plan = await api.PostAsync("v1/evacuations", null);
            var items = plan["items"]?.AsArray() ?? [];
            var table = new Table().AddColumns("workload", "from", "to", "report relied on", "why");
            foreach (var i in items)
            {
                var to = i!["proposedHost"] is null ? $"[red]no host[/]: {Markup.Escape(Str(i, "problem"))}" : Str(i, "proposedHost");
                table.AddRow(Str(i, "workload"), Str(i, "sourceHost"), to, i["proposedReportId"] is null ? "-" : Short(Str(i, "proposedReportId")), Markup.Escape(Str(i, "why")));
            }

            AnsiConsole.Write(table);
            if (!items.Any(i => Str(i!, "sourceHost") == victim.Name))
            {
                throw new InvalidOperationException($"the evacuation plan does not move anything off {victim.Name}");
            }

            return items.Count;
        }

        /// <summary>
        /// Exports the Merkle audit log over the API and verifies it offline as <c>trustpool audit verify</c> does, then
        /// asks for the compliance report of a workload that ran on the tampered host and checks its proofs.
        /// </summary>
        public async Task AuditAsync(DemoHost victim)
        {
            Section("10. audit: GET /v1/audit/*; every step above is a record in a Merkle log with signed checkpoints");
            var export = await AuditCommands.ExportAsync(api);
            var verified = AuditExportVerifier.Verify(export.ToJsonString(), [], null);
            if (!verified.Valid)
            {
                throw new InvalidOperationException($"the audit log does not verify: {string.Join("; ", verified.Problems)}");
            }

            var types = export["entries"]!.AsArray().GroupBy(e => Str(e!, "type")).Select(g => $"{g.Count()} {g.Key}");
            AnsiConsole.MarkupLine($"[green]audit log verified[/]: {verified.Entries} records, {verified.Checkpoints} signed checkpoint(s); every leaf rebuilt, the root matches the signed checkpoint of size {verified.VerifiedSize}");
            AnsiConsole.MarkupLine($"  records: {Markup.Escape(string.Join(", ", types))}; checked offline, as [bold]trustpool audit verify[/] does");

            var workload = _placements.Where(p => Str(p, "host") == victim.Name).Select(p => Str(p, "workload")).First();
            var report = (await api.GetAsync($"v1/audit/compliance?workload={Uri.EscapeDataString(workload)}")).AsObject();
            var problems = ComplianceReportVerifier.Verify(report, export["publicKey"]!.GetValue<string>());
            if (problems.Count > 0)
            {
                throw new InvalidOperationException($"the compliance report of {workload} does not verify: {string.Join("; ", problems)}");
            }

            var placement = report["placements"]!.AsArray()[0]!;
            var covering = placement["reports"]!.AsArray();
            var relied = covering.First(r => r!["reliedOn"]!.GetValue<bool>())!;
            var baselines = string.Join(", ", relied["baselines"]!.AsArray().Select(b => $"{Str(b!, "name")} v{Str(b!, "version")}").Distinct());
            var proofs = covering.Count + 1 + (placement["releasedRecord"] is null ? 0 : 1);
            AnsiConsole.MarkupLine($"compliance report of [bold]{Markup.Escape(workload)}[/] (GET /v1/audit/compliance): placed on {Markup.Escape(Str(placement, "host"))} " +
                $"at {Markup.Escape(Str(placement, "placedAt"))} relying on report {Short(Str(relied, "reportId"))} ({Markup.Escape(Str(relied, "result"))}: {Markup.Escape(baselines)}); {covering.Count} report(s) cover it");
            foreach (var gap in placement["gaps"]!.AsArray())
            {
                AnsiConsole.MarkupLine($"  [red]gap[/]: not trusted from {Markup.Escape(Str(gap!, "from"))} to {Markup.Escape(Str(gap!, "to"))} ({Markup.Escape(Str(gap!, "reason"))})");
            }

            AnsiConsole.MarkupLine($"  {proofs} inclusion proofs [green]verified[/] against the signed checkpoint of size {Str(report, "checkpointSize")}; the page for an auditor: GET /v1/audit/compliance?workload={Markup.Escape(Uri.EscapeDataString(workload))}&format=html");
        }

        /// <summary>Attacks that need no proxy: a TPM from an unknown vendor, and a trust report edited after signing.</summary>
        public async Task AttacksAsync(DemoHost victim, DemoHost rogue)
        {
            Section("9. attacks");
            try
            {
                await api.PostAsync("v1/hosts", new JsonObject
                {
                    ["name"] = rogue.Name, ["agentUrl"] = rogue.AgentUrl.ToString(), ["agentCertFingerprint"] = agents.TlsFingerprint,
                    ["tags"] = new JsonObject { ["country"] = "DE" },
                });
                throw new InvalidOperationException("a TPM with an EK certificate from an unknown vendor CA was enrolled");
            }
            catch (ServiceRefusedException e)
            {
                AnsiConsole.MarkupLine($"enroll a TPM whose EK certificate is from an unknown vendor CA: [red]refused[/] ({Markup.Escape(e.Message)})");
            }

            // The signed report of the tampered host, its payload edited to say "trusted": the signature no longer verifies.
            var jws = Str(_reports[victim.Name], "jws").Split('.');
            var payload = JsonNode.Parse(Base64Url.DecodeFromChars(jws[1]))!.AsObject();
            payload["trust"] = "trusted";
            var forged = $"{jws[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()))}.{jws[2]}";
            var verdict = await api.PostAsync("v1/reports/verify", new JsonObject { ["jws"] = forged });
            if (Str(verdict, "valid") != "false")
            {
                throw new InvalidOperationException("an edited trust report verified");
            }

            AnsiConsole.MarkupLine($"{victim.Name}'s signed report edited to say trusted, POST /v1/reports/verify: [red]invalid[/] ({Markup.Escape(Str(verdict, "reason"))})");
        }

        private static JsonObject Workload(string name, int vcpus, string trust, string[] pools, string[] tags, string? antiAffinity = null) => new()
        {
            ["name"] = name,
            ["resources"] = new JsonObject { ["vcpus"] = vcpus, ["memoryMb"] = 2048 * vcpus, ["diskGb"] = 20 },
            ["trust"] = trust,
            ["pools"] = new JsonArray([.. pools.Select(p => (JsonNode)p)]),
            ["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]),
            ["antiAffinityGroup"] = antiAffinity,
        };

        private static string Asks(JsonObject w)
        {
            var parts = new List<string> { $"trust {Str(w, "trust")}" };
            parts.AddRange(w["pools"]!.AsArray().Select(p => "pool " + p!.GetValue<string>()));
            parts.AddRange(w["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
            if (w["antiAffinityGroup"] is not null)
            {
                parts.Add($"anti-affinity {Str(w, "antiAffinityGroup")}");
            }

            return string.Join(", ", parts);
        }

        private static IEnumerable<JsonNode> Pcrs(JsonNode baseline) => (baseline["pcrs"]?.AsArray() ?? []).OfType<JsonNode>();

        private static string Indices(JsonNode baseline) => "PCR " + string.Join(",", Pcrs(baseline).Select(x => Int(x, "index")).Distinct().Order());

        private static IEnumerable<string> TrustedPools(JsonNode report) =>
            (report["pools"]?.AsArray() ?? []).Where(p => Str(p!, "trust") == "trusted").Select(p => Str(p!, "pool"));

        private static IEnumerable<(JsonNode Rule, JsonNode Fault)> RuleFaults(JsonNode report) =>
            from p in report["pools"]?.AsArray() ?? []
            from rule in p!["rules"]?.AsArray() ?? []
            from f in rule!["faults"]?.AsArray() ?? []
            select (rule, f!);

        /// <summary>Trusted: the baselines that matched, and why a pool was missed; otherwise the first fault.</summary>
        private static string Reason(JsonNode report)
        {
            var missed = (report["pools"]?.AsArray() ?? []).Where(p => Str(p!, "trust") != "trusted")
                .Select(p => $"not {Str(p!, "pool")}: " + (RuleFaults(new JsonObject { ["pools"] = new JsonArray(p!.DeepClone()) }).Select(x => Str(x.Fault, "message")).FirstOrDefault() ?? "-"))
                .ToList();
            if (Str(report, "trust") != "trusted")
            {
                var host = (report["faults"]?.AsArray() ?? []).Select(f => Str(f!, "message")).FirstOrDefault(m => m.Length > 0);
                return missed.FirstOrDefault() ?? host ?? "-";
            }

            var trusted = (report["pools"]?.AsArray() ?? []).First(p => Str(p!, "trust") == "trusted");
            var matched = (trusted!["rules"]?.AsArray() ?? []).Where(r => r!["baseline"] is not null)
                .Select(r => $"{Str(r!, "rule")} {Str(r!, "baseline")} v{Str(r!, "baselineVersion")}");
            return string.Join("; ", [string.Join(", ", matched), .. missed]);
        }

        private static string Trust(JsonNode report) => Str(report, "trust") switch
        {
            "trusted" => "[green]trusted[/]",
            "untrusted" => "[red]untrusted[/]",
            var t => $"[yellow]{Markup.Escape(t)}[/]",
        };
    }

    private static void Section(string title)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
    }

    /// <summary>A JSON member as text (strings unquoted, other values as JSON, missing as "").</summary>
    private static string Str(JsonNode node, string name) => node[name] switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => other.ToJsonString(),
    };

    private static int Int(JsonNode node, string name) => node[name]?.GetValue<int>() ?? -1;

    private static string Short(string id) => id.Length <= 12 ? id : id[..12] + "..";
}
