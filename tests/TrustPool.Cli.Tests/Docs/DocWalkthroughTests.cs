using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Tests.EndToEnd;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests.Docs;

/// <summary>
/// The walk-through sets TRUSTPOOL_* environment variables, the working directory and the console for the whole
/// process: it runs alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DocWalkthroughCollection
{
    public const string Name = "Operator docs walk-through";
}

/// <summary>
/// The operator docs as an operator would follow them: every <c>trustpool</c> line, in page order, against a real
/// service with agents on software TPMs (<see cref="ServiceHarness"/>), and every <c>trustpool server</c> /
/// <c>trustpool agent</c> / <c>trustpool-agent</c> line (docs and systemd units) started as a process.
/// </summary>
[Collection(DocWalkthroughCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DocWalkthroughTests
{
    private static readonly SimulatedBoot s_golden = new();

    /// <summary>The fleet the docs talk about: how each host boots and whether its TPM has a vendor EK certificate.</summary>
    private static readonly Dictionary<string, (SimulatedBoot Boot, EkCertificate Ek)> s_fleet = new(StringComparer.Ordinal)
    {
        ["web1"] = (s_golden, EkCertificate.TrustedVendor),
        ["web2"] = (s_golden, EkCertificate.TrustedVendor),
        // TROUBLESHOOTING.md's PcrMismatch: a kernel nobody approved.
        ["web3"] = (s_golden with { Kernel = "a kernel nobody approved"u8.ToArray() }, EkCertificate.TrustedVendor),
        // TROUBLESHOOTING.md's agent-tls-pin-mismatch: enrolled with a wrong fingerprint.
        ["web9"] = (s_golden, EkCertificate.TrustedVendor),
        // ENROLLING.md / TROUBLESHOOTING.md: TPMs without an EK certificate, refused under --ek-trust ca.
        ["lab1"] = (s_golden, EkCertificate.None),
        ["lab2"] = (s_golden, EkCertificate.None),
    };

    [Fact]
    public async Task Walkthrough_EveryRunCommandInPageOrder_ExitsAsDocumentedWithItsOutput()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var work = TestTemp.CreateDirectory("trustpool-docs-walk-").FullName;
        var vars = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SERVER"] = h.Server.Addresses[0].ToString(),
            ["CA_FILE"] = h.Server.CaCertificatePath,
            ["TOKEN"] = h.AdminToken,
        };

        // The paths the docs use, on this machine.
        var paths = new List<(string Doc, string Here)>
        {
            ("/var/lib/trustpool", h.Options.DataDirectory),
            ("/etc/trustpool", Directory.CreateDirectory(Path.Combine(work, "etc")).FullName),
        };

        var saved = new[] { "TRUSTPOOL_SERVER", "TRUSTPOOL_TOKEN", "TRUSTPOOL_CA_FILE" }.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        var cwd = Directory.GetCurrentDirectory();
        var ran = new List<DocStep>();
        try
        {
            foreach (var k in saved.Keys)
            {
                Environment.SetEnvironmentVariable(k, null);
            }

            Directory.SetCurrentDirectory(work);
            foreach (var step in DocCommands.AllPageSteps())
            {
                if (step.Kind == DocStepKind.Export)
                {
                    foreach (var assignment in DocShell.Split(step.Text, vars, out _).Skip(1))
                    {
                        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
                        if (eq > 0 && assignment.StartsWith("TRUSTPOOL_", StringComparison.Ordinal))
                        {
                            Environment.SetEnvironmentVariable(assignment[..eq], MapPaths(assignment[(eq + 1)..], paths));
                        }
                    }

                    continue;
                }

                if (DocCommands.Classify(step) != DocCoverage.Run)
                {
                    continue;
                }

                // The host a command names brings its agent: $AGENT_URL / $FINGERPRINT are that host's.
                var raw = step.RawArgs;
                if (raw.Length > 2 && raw[0] == "host" && raw[1] == "add")
                {
                    var host = HostFor(h, raw[2]);
                    vars["AGENT_URL"] = host.AgentUrl.ToString();
                    vars["FINGERPRINT"] = host.Fingerprint;
                }

                PrepareFiles(step, h, work);
                var args = DocShell.Split(step.Text, vars, out _).Skip(1).Select(a => MapPaths(a, paths)).ToArray();
                var r = await RunAsync(args);
                Assert.True(r.ExitCode == step.ExpectedExit, $"{step}\n(expected exit {step.ExpectedExit})\n{r}");
                CheckOutput(step, args, r);
                ran.Add(step);
            }
        }
        finally
        {
            Directory.SetCurrentDirectory(cwd);
            foreach (var (k, v) in saved)
            {
                Environment.SetEnvironmentVariable(k, v);
            }
        }

        var expected = DocCommands.AllPageSteps().Where(s => s.Kind == DocStepKind.Command && DocCommands.Classify(s) == DocCoverage.Run).ToList();
        Assert.Equal(expected, ran);
        Assert.True(ran.Count >= 35, $"only {ran.Count} commands ran");
        foreach (var page in new[] { "INSTALL.md", "ENROLLING.md", "BASELINES-AND-POOLS.md", "OPENSTACK.md", "SIEM.md", "API.md", "TROUBLESHOOTING.md" })
        {
            Assert.Contains(ran, s => s.File == page);
        }

        // The state the docs leave behind: the hosts they enrolled, the pool they made, web1 trusted in it.
        var pool = await h.OkAsync(HttpMethod.Get, "/v1/pools/eu");
        Assert.Contains("web1", pool["trustedHosts"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    [Fact]
    public async Task ServerAndAgentLines_StartWithTheirOptions_ListenAndExit0OnSigterm()
    {
        var steps = StartSteps().Where(s => !s.Text.Contains("swtpm:", StringComparison.Ordinal)).ToList();
        Assert.True(steps.Count >= 8, $"only {steps.Count} server/agent lines");
        foreach (var step in steps.DistinctBy(s => s.Text))
        {
            await StartAndStopAsync(step, null);
        }
    }

    [SkippableFact]
    public async Task AgentLineOnSwtpm_StartsAgainstARealSwtpm()
    {
        var steps = StartSteps().Where(s => s.Text.Contains("swtpm:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(steps);
        using var swtpm = SwtpmInstance.Start();
        foreach (var step in steps)
        {
            await StartAndStopAsync(step, swtpm.Backend);
        }
    }

    private static IEnumerable<DocStep> StartSteps() =>
        DocCommands.AllPageSteps().Where(s => s.Kind == DocStepKind.Command).Concat(DocCommands.UnitSteps()).Where(s => DocCommands.Classify(s) == DocCoverage.Start);

    /// <summary>
    /// Starts a documented <c>server</c> / <c>agent</c> line as a process with its own options; only the paths (to a
    /// temporary directory), the listen address (loopback, a free port) and the TPM device (a software TPM, or
    /// <paramref name="swtpmBackend"/>) are changed. Waits for the line it prints once it listens, then SIGTERM: exit 0.
    /// </summary>
    private static async Task StartAndStopAsync(DocStep step, string? swtpmBackend)
    {
        var dir = TestTemp.CreateDirectory("trustpool-docs-start-").FullName;
        var etc = Directory.CreateDirectory(Path.Combine(dir, "etc")).FullName;
        var ekCa = Directory.CreateDirectory(Path.Combine(etc, "ek-ca")).FullName;
        string caPem;
        using (var ca = TrustPool.Server.Pki.ServiceCa.LoadOrCreate(Path.Combine(dir, "some-ca"), out _))
        {
            caPem = ca.CertificatePath;
        }

        File.Copy(caPem, Path.Combine(ekCa, "vendor-root.pem"));
        File.Copy(caPem, Path.Combine(etc, "service-ca.pem"));
        File.Copy(caPem, Path.Combine(etc, "siem-ca.pem"));
        var uefi = Path.Combine(dir, "binary_bios_measurements");
        File.WriteAllBytes(uefi, []);
        var ima = Path.Combine(dir, "binary_runtime_measurements");
        File.WriteAllBytes(ima, []);
        var paths = new List<(string Doc, string Here)>
        {
            ("/sys/kernel/security/tpm0/binary_bios_measurements", uefi),
            ("/sys/kernel/security/ima/binary_runtime_measurements", ima),
            ("device:/dev/tpmrm0", "software:" + Path.Combine(dir, "tpm.state")),
            ("swtpm:127.0.0.1:2321", swtpmBackend ?? "swtpm:127.0.0.1:2321"),
            ("/var/lib/trustpool-agent", Path.Combine(dir, "agent-data")),
            ("/var/lib/trustpool", Path.Combine(dir, "data")),
            ("/etc/trustpool", etc),
        };

        var args = step.RawArgs.Select(a => MapPaths(a, paths)).ToList();
        for (var i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == "--urls")
            {
                Assert.Matches(@"^https://(0\.0\.0\.0|127\.0\.0\.1):\d+$", args[i + 1]);
                args[i + 1] = "https://127.0.0.1:0";
            }
        }

        Assert.DoesNotContain(args, a => a.Contains('$', StringComparison.Ordinal));
        var agent = step.Program == "trustpool-agent" || args[0] == "agent";
        var dll = step.Program == "trustpool-agent" ? "trustpool-agent.dll" : "trustpool.dll";
        if (!args.Contains("--urls"))
        {
            // Without --urls they listen on 0.0.0.0 at the default port: keep the test on loopback and a free port.
            args.AddRange(["--urls", "https://127.0.0.1:0"]);
        }

        // OPENSTACK.md: the Keystone password comes only from the environment.
        await using var process = CliProcess.Start(Path.Combine(AppContext.BaseDirectory, dll), args, dir, new Dictionary<string, string> { ["OS_PASSWORD"] = "doc-test-password" });
        var output = await process.WaitForLineAsync(agent ? "agent listening on https://127.0.0.1:" : "admin token ", step.ToString());
        if (agent)
        {
            Assert.Matches(@"tls-sha256 [0-9a-f]{64}", output);
        }
        else
        {
            Assert.Contains($"admin token written to {Path.Combine(dir, "data", "admin.token")}", output, StringComparison.Ordinal);
            await CheckServerOptionsAsync(step, args, output, Path.Combine(dir, "data", "ca.pem"));
        }

        Assert.True(await process.StopAsync() == 0, $"{step}: not exit 0 on SIGTERM\n{process.Output}");
    }

    /// <summary>The options a server line is about show up: EK trust in the log, Placement and SIEM state in /readyz.</summary>
    private static async Task CheckServerOptionsAsync(DocStep step, List<string> args, string output, string caPem)
    {
        var listening = Regex.Match(output, @"^server listening on (https://127\.0\.0\.1:\d+/)", RegexOptions.Multiline);
        Assert.True(listening.Success, $"{step}: no listening line\n{output}");
        if (args.Contains("--ek-ca-dir"))
        {
            Assert.Contains("1 EK CA certificate(s) loaded from", output, StringComparison.Ordinal);
        }

        if (args.Contains("--ek-trust") && args[args.IndexOf("--ek-trust") + 1] == "tofu")
        {
            Assert.Contains("EK trust is tofu", output, StringComparison.Ordinal);
        }

        using var http = ServiceHttp.Create(new Uri(listening.Groups[1].Value), caPem, timeout: TimeSpan.FromSeconds(30));
        var ready = JsonNode.Parse(await http.GetStringAsync(new Uri("readyz", UriKind.Relative)))!;
        Assert.Equal("ready", ready["status"]!.GetValue<string>());
        Assert.True((ready["placement"] is not null) == args.Contains("--openstack-placement"), $"{step}: /readyz {ready.ToJsonString()}");
        Assert.True((ready["siem"] is not null) == args.Contains("--syslog"), $"{step}: /readyz {ready.ToJsonString()}");
    }

    private static string MapPaths(string arg, List<(string Doc, string Here)> paths)
    {
        foreach (var (doc, here) in paths.OrderByDescending(p => p.Doc.Length))
        {
            if (arg.Contains(doc, StringComparison.Ordinal))
            {
                return arg.Replace(doc, here, StringComparison.Ordinal);
            }
        }

        return arg;
    }

    private static TestHost HostFor(ServiceHarness h, string name)
    {
        if (h.Hosts.TryGetValue(name, out var host))
        {
            return host;
        }

        Assert.True(s_fleet.TryGetValue(name, out var spec), $"the docs enroll '{name}', which the test's fleet does not have");
        return h.AddSoftwareHost(name, spec.Boot, spec.Ek);
    }

    /// <summary>Files the docs tell the operator to fetch with non-TrustPool tools (scp): here, copies of the hosts' logs.</summary>
    private static void PrepareFiles(DocStep step, ServiceHarness h, string work)
    {
        foreach (var arg in step.RawArgs)
        {
            var m = Regex.Match(arg, @"^(\w+)\.log$");
            if (m.Success && !File.Exists(Path.Combine(work, arg)))
            {
                Assert.True(h.Hosts.TryGetValue(m.Groups[1].Value, out var host), $"{step}: no host for {arg}");
                File.Copy(host!.LogFile, Path.Combine(work, arg));
            }
        }
    }

    /// <summary>One key piece of output per verb: what an operator following the page would look at.</summary>
    private static void CheckOutput(DocStep step, string[] args, ProcessResult r)
    {
        var verb = string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(2));
        var name = args.Length > 2 && !args[2].StartsWith('-') ? args[2] : "";
        var json = args.Contains("--json");
        void Out(string text) => Assert.True(r.StdOut.Contains(text, StringComparison.Ordinal), $"{step}: no '{text}' in the output\n{r}");
        void Err(string text) => Assert.True(r.StdErr.Contains(text, StringComparison.Ordinal), $"{step}: no '{text}' on stderr\n{r}");
        if (json)
        {
            Assert.NotNull(JsonNode.Parse(r.StdOut));
        }

        if (step.ExpectedExit != 0)
        {
            switch (verb)
            {
                case "host add" when name.StartsWith("lab", StringComparison.Ordinal):
                    Err("422 urn:trustpool:service:enrollment-ek-certificate-missing");
                    return;
                case "host add":
                    Err("422 urn:trustpool:service:agent-tls-pin-mismatch");
                    return;
                case "host attest":
                    Out($"for {name}: untrusted");
                    Out("NoPoolMatched");
                    Out("; first differing event #");
                    return;
                default:
                    Assert.Fail($"{step}: no check for a failing '{verb}'");
                    return;
            }
        }

        switch (verb)
        {
            case "ca init":
                Out("service CA in");
                Out("sha256: ");
                break;
            case "ca show":
                Out("subject: CN=TrustPool service CA");
                break;
            case "ca issue":
                Out($"issued CN={args[Array.IndexOf(args, "--name") + 1]}");
                Assert.True(File.Exists(Path.Combine(args[Array.IndexOf(args, "--out") + 1], args[Array.IndexOf(args, "--name") + 1] + ".key")));
                break;
            case "host add":
                Out($"enrolled {name}: AK ");
                Out("EK trust ca");
                break;
            case "host list":
                Out("EK trust");
                break;
            case "host show" or "pool show" or "pool list" or "report show":
                Out(name.Length > 0 ? name : "eu");
                break;
            case "host attest":
                Out($"for {name}: trusted");
                break;
            case "host remove":
                Out($"removed {name}");
                break;
            case "baseline import":
                var baselineName = args[Array.IndexOf(args, "--name") + 1];
                Out(args.Count(a => a == "--kind") > 1 ? baselineName + "-" : baselineName);
                break;
            case "baseline list":
                Out("gold-platform");
                break;
            case "baseline show":
                Out($"{name} platform version {(args.Contains("--version") ? args[Array.IndexOf(args, "--version") + 1] : "")}");
                break;
            case "baseline export":
                var file = args[Array.IndexOf(args, "--out") + 1];
                Assert.Equal(name, JsonNode.Parse(File.ReadAllText(file))!["name"]!.GetValue<string>());
                break;
            case "baseline create":
                Out("gold-platform");
                break;
            case "pool create":
                Out($"pool {name} version ");
                break;
            case "token create":
                Out(json ? "\"token\": \"tp_" : "tp_");
                break;
            case "evacuations":
                Out("workload");
                break;
            case "audit export":
                Out("exported ");
                Assert.True(File.Exists(args[Array.IndexOf(args, "--out") + 1]));
                break;
            case "audit verify":
                Out("valid: ");
                break;
            case "eventlog show":
                Out("EV_");
                break;
            case "eventlog replay":
                Out("sha256:");
                break;
            default:
                Assert.Fail($"{step}: no output check for '{verb}'; add one");
                break;
        }
    }

    private static Task<ProcessResult> RunAsync(string[] args) => InProcessCli.RunAsync(args);
}
