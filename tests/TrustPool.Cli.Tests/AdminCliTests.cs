using System.Text.Json.Nodes;
using Spectre.Console;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Tests.EndToEnd;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary>The service and two agents on software TPMs, shared by the admin-verb tests of one class.</summary>
public sealed class AdminServiceFixture : IAsyncLifetime
{
    public ServiceHarness Harness { get; private set; } = null!;

    public string Server => Harness.Server.Addresses[0].ToString();

    public string CaFile => Harness.Server.CaCertificatePath;

    public string AdminToken => Harness.AdminToken;

    public async Task InitializeAsync() => Harness = await ServiceHarness.StartAsync("sqlite");

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>
/// The admin verbs (<c>token</c>, <c>host</c>, <c>baseline</c>, <c>pool</c>, <c>report</c>) through the CLI entry point
/// against a real service over HTTPS, with agents on software TPMs behind mutual TLS.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AdminCliTests : IClassFixture<AdminServiceFixture>
{
    private static readonly SimulatedBoot s_golden = new();
    private readonly AdminServiceFixture _service;

    public AdminCliTests(AdminServiceFixture service) => _service = service;

    private string[] Connection => ["--server", _service.Server, "--token", _service.AdminToken, "--ca-file", _service.CaFile];

    [Fact]
    public async Task AdminVerbs_EnrollBaselinePoolAttestReportRemove_HostTrustedThroughout()
    {
        var h = _service.Harness;
        var host = h.AddSoftwareHost("web1", s_golden);
        var dir = TestTemp.CreateDirectory("trustpool-admin-cli-").FullName;

        var reader = await OkJsonAsync("token", "create", "--role", "reader", "--name", "dashboard", "--json");
        Assert.Equal("reader", reader["role"]!.GetValue<string>());
        Assert.StartsWith("tp_", reader["token"]!.GetValue<string>(), StringComparison.Ordinal);

        var added = await OkJsonAsync("host", "add", "web1", "--agent-url", host.AgentUrl.ToString(), "--fingerprint", host.Fingerprint, "--tag", "country=DE", "--json");
        Assert.Equal("web1", added["name"]!.GetValue<string>());
        Assert.Equal("enrolled", added["state"]!.GetValue<string>());
        Assert.Equal("DE", added["tags"]!["country"]!.GetValue<string>());

        var list = await OkJsonAsync("host", "list", "--json");
        Assert.Contains(list["hosts"]!.AsArray(), x => x!["name"]!.GetValue<string>() == "web1");
        var table = await RunAsync(["host", "list", .. Connection]);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("web1", table.StdOut, StringComparison.Ordinal);
        Assert.Contains("country=DE", table.StdOut, StringComparison.Ordinal);

        var shown = await OkJsonAsync("host", "show", "web1", "--json");
        Assert.Equal(host.Fingerprint, shown["tlsFingerprint"]!.GetValue<string>());

        var imported = await OkJsonAsync("baseline", "import", "--from-host", "web1", "--kind", "platform", "--kind", "os", "--name", "gold", "--json");
        Assert.Equal(["gold-os", "gold-platform"], imported["baselines"]!.AsArray().Select(b => b!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var baselines = await OkJsonAsync("baseline", "list", "--json");
        Assert.Contains(baselines["baselines"]!.AsArray(), b => b!["name"]!.GetValue<string>() == "gold-platform");
        var platform = await OkJsonAsync("baseline", "show", "gold-platform", "--json");
        Assert.Equal("platform", platform["kind"]!.GetValue<string>());
        Assert.Equal(1, platform["version"]!.GetValue<int>());

        var exported = Path.Combine(dir, "gold-platform.json");
        var export = await RunAsync(["baseline", "export", "gold-platform", "--out", exported, .. Connection]);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal("gold-platform", JsonNode.Parse(await File.ReadAllTextAsync(exported))!["name"]!.GetValue<string>());
        var recreated = await OkJsonAsync("baseline", "create", exported, "--json");
        Assert.Equal(2, recreated["version"]!.GetValue<int>());
        Assert.Equal(platform["pcrs"]!.AsArray().Count, recreated["pcrs"]!.GetValue<int>());

        var pool = await OkJsonAsync("pool", "create", "eu", "--platform", "gold-platform", "--os", "gold-os", "--tag", "country=DE", "--json");
        Assert.Equal("eu", pool["name"]!.GetValue<string>());
        Assert.Equal(["gold-platform"], pool["require"]!["platform"]!.AsArray().Select(x => x!.GetValue<string>()));
        var pools = await OkJsonAsync("pool", "list", "--json");
        Assert.Contains(pools["pools"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "eu");

        var attest = await RunAsync(["host", "attest", "web1", .. Connection]);
        Assert.True(attest.ExitCode == 0, attest.ToString());
        Assert.Contains("trusted", attest.StdOut, StringComparison.Ordinal);

        var report = await OkJsonAsync("report", "show", "web1", "--json");
        Assert.Equal("trusted", report["trust"]!.GetValue<string>());
        Assert.Equal("trusted", report["currentTrust"]!.GetValue<string>());
        Assert.Equal(3, report["jws"]!.GetValue<string>().Split('.').Length);
        var eu = await OkJsonAsync("pool", "show", "eu", "--json");
        Assert.Equal(["web1"], eu["trustedHosts"]!.AsArray().Select(x => x!.GetValue<string>()));

        var removed = await RunAsync(["host", "remove", "web1", .. Connection]);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        var gone = await RunAsync(["host", "show", "web1", "--json", .. Connection]);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("404 urn:trustpool:service:not-found", gone.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlaceVerbs_PlaceListEvacuateRelease_FollowTrust()
    {
        var h = _service.Harness;
        foreach (var name in new[] { "sched-1", "sched-2" })
        {
            var host = h.AddSoftwareHost(name, s_golden);
            await h.EnrollAsync(host, new Dictionary<string, string> { ["country"] = "DE" });
            await h.OkAsync(HttpMethod.Put, $"/v1/hosts/{name}/inventory", new JsonObject { ["vcpus"] = 8, ["memoryMb"] = 8192, ["diskGb"] = 100 });
        }

        await OkJsonAsync("baseline", "import", "--from-host", "sched-1", "--kind", "platform", "--kind", "os", "--name", "sched", "--json");
        await OkJsonAsync("pool", "create", "sched-pool", "--platform", "sched-platform", "--os", "sched-os", "--json");
        foreach (var name in new[] { "sched-1", "sched-2" })
        {
            Assert.Equal("trusted", (await OkJsonAsync("host", "attest", name, "--json"))["trust"]!.GetValue<string>());
        }

        var placed = await OkJsonAsync("place", "app-1", "--vcpus", "2", "--memory-mb", "1024", "--pool", "sched-pool", "--tag", "country=DE", "--json");
        var on = placed["host"]!.GetValue<string>();
        Assert.Contains(on, new[] { "sched-1", "sched-2" });
        Assert.NotNull(placed["reportId"]);
        var listed = await OkJsonAsync("placements", "--host", on, "--json");
        Assert.Contains(listed["placements"]!.AsArray(), p => p!["workload"]!.GetValue<string>() == "app-1");

        var refused = await RunAsync(["place", "app-us", "--pool", "sched-pool", "--tag", "country=US", .. Connection]);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("no-valid-host", refused.StdErr, StringComparison.Ordinal);

        ServiceHarness.Reboot(h.Hosts[on], s_golden with { FirmwareVolume = "implant"u8.ToArray() });
        var attest = await RunAsync(["host", "attest", on, "--json", .. Connection]);
        Assert.True(attest.ExitCode == 1, attest.ToString());
        var plan = await OkJsonAsync("evacuations", "--json");
        var item = Assert.Single(plan["items"]!.AsArray(), i => i!["workload"]!.GetValue<string>() == "app-1");
        Assert.Equal(on, item!["sourceHost"]!.GetValue<string>());
        Assert.Equal(on == "sched-1" ? "sched-2" : "sched-1", item["proposedHost"]!.GetValue<string>());
        var table = await RunAsync(["evacuations", .. Connection]);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("app-1", table.StdOut, StringComparison.Ordinal);

        // Reading the plan records nothing; --record POSTs it: the same plan, one evacuation.planned record.
        async Task<int> PlannedAsync() => (await TrustPool.Server.Tests.Audit.AuditLogServiceTests.EntriesAsync(h))
            .Count(e => e["type"]!.GetValue<string>() == TrustPool.Audit.Records.AuditRecordTypes.EvacuationPlanned);
        var planned = await PlannedAsync();
        var recorded = await OkJsonAsync("evacuations", "--record", "--json");
        Assert.Equal(plan["items"]!.ToJsonString(), recorded["items"]!.ToJsonString());
        Assert.Equal(planned + 1, await PlannedAsync());

        await OkJsonAsync("placements", "--release", placed["id"]!.GetValue<string>(), "--json");
        Assert.DoesNotContain((await OkJsonAsync("placements", "--json"))["placements"]!.AsArray(), p => p!["workload"]!.GetValue<string>() == "app-1");
    }

    [Fact]
    public async Task HostAttest_UntrustedHost_Exit1WithFault()
    {
        var h = _service.Harness;
        var host = h.AddSoftwareHost("web-tampered", s_golden with { Kernel = "a kernel nobody approved"u8.ToArray() });
        await h.EnrollAsync(host);
        await OkJsonAsync("baseline", "import", "--from-host", "web-tampered", "--kind", "platform", "--name", "tampered-platform", "--json");
        await OkJsonAsync("pool", "create", "strict", "--platform", "tampered-platform", "--tag", "rack=A1", "--json");
        var attest = await RunAsync(["host", "attest", "web-tampered", "--json", .. Connection]);
        Assert.True(attest.ExitCode == 1, attest.ToString());
        Assert.Equal("untrusted", JsonNode.Parse(attest.StdOut)!["trust"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConnectionFromEnvironment_TokenFromFile_BothWork()
    {
        // Environment variables instead of options: as a separate process so nothing leaks into other tests.
        var env = new Dictionary<string, string>
        {
            ["NO_COLOR"] = "1", ["TRUSTPOOL_SERVER"] = _service.Server, ["TRUSTPOOL_TOKEN"] = _service.AdminToken, ["TRUSTPOOL_CA_FILE"] = _service.CaFile,
        };
        var r = await Task.Run(() => ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "trustpool.dll"), "pool", "list", "--json"], env, null,
            TimeSpan.FromSeconds(120)));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.NotNull(JsonNode.Parse(r.StdOut)!["pools"]);

        // TRUSTPOOL_TOKEN=@FILE reads the token from the file, like --token @FILE.
        env["TRUSTPOOL_TOKEN"] = "@" + _service.Harness.Server.AdminTokenPath;
        var fromEnvFile = await Task.Run(() => ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "trustpool.dll"), "host", "list", "--json"], env, null,
            TimeSpan.FromSeconds(120)));
        Assert.True(fromEnvFile.ExitCode == 0, fromEnvFile.ToString());
        Assert.NotNull(JsonNode.Parse(fromEnvFile.StdOut)!["hosts"]);

        var fromFile = await RunAsync(["host", "list", "--json", "--server", _service.Server, "--token", "@" + _service.Harness.Server.AdminTokenPath, "--ca-file", _service.CaFile]);
        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
        Assert.NotNull(JsonNode.Parse(fromFile.StdOut)!["hosts"]);
    }

    [Fact]
    public async Task HostAdd_ReaderToken_Exit1With403Problem()
    {
        var reader = (await OkJsonAsync("token", "create", "--role", "reader", "--json"))["token"]!.GetValue<string>();
        var r = await RunAsync(["host", "add", "sneaky", "--agent-url", "https://127.0.0.1:9/", "--server", _service.Server, "--token", reader, "--ca-file", _service.CaFile]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("403 urn:trustpool:service:forbidden", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("operator", r.StdErr, StringComparison.Ordinal);

        // The reader may still read.
        var list = await RunAsync(["host", "list", "--json", "--server", _service.Server, "--token", reader, "--ca-file", _service.CaFile]);
        Assert.True(list.ExitCode == 0, list.ToString());
    }

    [SkippableFact]
    public async Task AdminVerb_MissingServer_Exit2()
    {
        Skip.If(Environment.GetEnvironmentVariable("TRUSTPOOL_SERVER") is not null, "TRUSTPOOL_SERVER is set in this environment");
        var r = await RunAsync(["host", "list", "--token", _service.AdminToken, "--ca-file", _service.CaFile]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--server", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminVerb_ServiceCaNotTrusted_Exit1CannotReach()
    {
        // A CA file that did not sign the service's certificate: the TLS handshake is refused.
        var other = TestTemp.CreateDirectory("trustpool-other-ca-").FullName;
        using (TrustPool.Server.Pki.ServiceCa.LoadOrCreate(other, out _))
        {
        }

        var r = await RunAsync(["host", "list", "--server", _service.Server, "--token", _service.AdminToken, "--ca-file", Path.Combine(other, "ca.pem")]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("cannot reach the service", r.StdErr, StringComparison.Ordinal);
    }

    private async Task<JsonNode> OkJsonAsync(params string[] args)
    {
        var r = await RunAsync([.. args, .. Connection]);
        Assert.True(r.ExitCode == 0, $"trustpool {string.Join(' ', args)}: {r}");
        return JsonNode.Parse(r.StdOut) ?? throw new InvalidOperationException("no JSON on stdout");
    }

    private static Task<ProcessResult> RunAsync(string[] args) => InProcessCli.RunAsync(args);
}
