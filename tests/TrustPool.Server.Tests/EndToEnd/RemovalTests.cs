using System.Net;
using System.Text.Json.Nodes;
using TrustPool.Evidence.Uefi;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 13, hole 3, for the scheduler and the dashboard's data, through the real service over HTTPS and real agents
/// (software TPMs), on SQLite and PostgreSQL (the subclasses): a removed host is unknown at once, so nothing is placed
/// on it, its trust-requiring workloads are planned for evacuation, and no view the dashboard polls shows it trusted;
/// its name enrolled again with another TPM is unknown until that TPM's own first trusted report.
/// </summary>
[Trait("Category", "Integration")]
public abstract class RemovalTests
{
    private static readonly SimulatedBoot s_golden = new();

    protected abstract string Provider { get; }

    private static async Task EnrollWithInventoryAsync(ServiceHarness h, TestHost host, string name)
    {
        var (status, body) = await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = name, ["agentUrl"] = host.AgentUrl.ToString(), ["agentCertFingerprint"] = host.Fingerprint,
        });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {body?.ToJsonString()}");
        await h.OkAsync(HttpMethod.Put, $"/v1/hosts/{name}/inventory", new JsonObject { ["vcpus"] = 8, ["memoryMb"] = 16384, ["diskGb"] = 200 });
    }

    private static JsonObject Workload(string name) => new()
    {
        ["name"] = name,
        ["resources"] = new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 1024, ["diskGb"] = 10 },
        ["trust"] = "required",
        ["pools"] = new JsonArray("golden"),
    };

    /// <summary>Every host any view the dashboard polls shows as trusted: the hosts grid, the pools' members.</summary>
    private static async Task<List<string>> DashboardTrustedAsync(ServiceHarness h)
    {
        var grid = (await h.OkAsync(HttpMethod.Get, "/v1/hosts"))["hosts"]!.AsArray()
            .Where(x => x!["trust"]!.GetValue<string>() == "trusted").Select(x => "hosts:" + x!["name"]!.GetValue<string>());
        var pools = (await h.OkAsync(HttpMethod.Get, "/v1/pools"))["pools"]!.AsArray()
            .SelectMany(p => p!["trustedHosts"]!.AsArray().Select(x => $"pool {p["name"]!.GetValue<string>()}:{x!.GetValue<string>()}"));
        return [.. grid.Concat(pools)];
    }

    private static JsonNode EvacuationOf(JsonNode plan, string workload) =>
        Assert.Single(plan["items"]!.AsArray(), i => i!["workload"]!.GetValue<string>() == workload)!;

    [SkippableFact]
    public async Task RemovedHost_NotPlacedOnEvacuatedNotShownTrusted_ReAddedUnknownUntilItsOwnReport()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var first = h.AddSoftwareHost("sw-1-first-tpm", s_golden);
        await EnrollWithInventoryAsync(h, first, "sw-1");
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "sw-1");
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        var placed = await h.OkAsync(HttpMethod.Post, "/v1/placements", Workload("web-1"));
        Assert.Equal("sw-1", placed["host"]!.GetValue<string>());
        Assert.Equal(["hosts:sw-1", "pool golden:sw-1"], await DashboardTrustedAsync(h));

        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, "/v1/hosts/sw-1")).Status);

        // The only host is gone: a trust-requiring workload has no valid host.
        var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/placements", Workload("web-2"));
        Assert.True(status == HttpStatusCode.Conflict, $"{(int)status} {problem?.ToJsonString()}");
        Assert.Equal("urn:trustpool:service:no-valid-host", problem!["type"]!.GetValue<string>());
        Assert.Null(problem["decision"]!["host"]);

        // web-1 still runs there (its placement stays until released) and is planned away from an unknown host.
        Assert.Single((await h.OkAsync(HttpMethod.Get, "/v1/placements"))["placements"]!.AsArray(), p => p!["workload"]!.GetValue<string>() == "web-1");
        var evacuation = EvacuationOf(await h.OkAsync(HttpMethod.Get, "/v1/evacuations"), "web-1");
        Assert.Equal("sw-1", evacuation["sourceHost"]!.GetValue<string>());
        Assert.Equal("unknown", evacuation["why"]!.GetValue<string>());
        Assert.Null(evacuation["proposedHost"]);
        Assert.Empty(await DashboardTrustedAsync(h));
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, "/v1/hosts/sw-1")).Status);

        // The same name on another TPM: enrolled, but unknown until its own report (the old one is still within validTo).
        var second = h.AddSoftwareHost("sw-1-new-tpm", s_golden);
        await EnrollWithInventoryAsync(h, second, "sw-1");
        var (again, refused) = await h.SendAsync(HttpMethod.Post, "/v1/placements", Workload("web-3"));
        Assert.True(again == HttpStatusCode.Conflict, $"{(int)again} {refused?.ToJsonString()}");
        var rejection = Assert.Single(refused!["decision"]!["rejections"]!.AsArray());
        Assert.Equal("sw-1", rejection!["host"]!.GetValue<string>());
        Assert.Equal("TrustFilter", rejection["filter"]!.GetValue<string>());
        Assert.Equal("unknown", EvacuationOf(await h.OkAsync(HttpMethod.Get, "/v1/evacuations"), "web-1")["why"]!.GetValue<string>());
        Assert.Empty(await DashboardTrustedAsync(h));

        // Its own first trusted report, and only that, makes it a valid host again.
        var own = await h.AttestAsync("sw-1");
        Assert.Equal("trusted", own["trust"]!.GetValue<string>());
        var placedAgain = await h.OkAsync(HttpMethod.Post, "/v1/placements", Workload("web-3"));
        Assert.Equal("sw-1", placedAgain["host"]!.GetValue<string>());
        Assert.Equal(own["id"]!.GetValue<string>(), placedAgain["reportId"]!.GetValue<string>());
        Assert.Empty((await h.OkAsync(HttpMethod.Get, "/v1/evacuations"))["items"]!.AsArray());
        Assert.Equal(["hosts:sw-1", "pool golden:sw-1"], await DashboardTrustedAsync(h));
    }

    [SkippableFact]
    public async Task RemovedHostWithWorkloads_EvacuationProposesATrustedHostNeverTheRemovedOne()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        foreach (var name in new[] { "a-1", "b-1" })
        {
            await EnrollWithInventoryAsync(h, h.AddSoftwareHost(name, s_golden), name);
        }

        await AttestationServiceTests.ImportGoldenPoolAsync(h, "a-1");
        foreach (var name in new[] { "a-1", "b-1" })
        {
            Assert.Equal("trusted", (await h.AttestAsync(name))["trust"]!.GetValue<string>());
        }

        // db-1 runs on one of the two; that host is removed.
        var placed = await h.OkAsync(HttpMethod.Post, "/v1/placements", Workload("db-1"));
        var removed = placed["host"]!.GetValue<string>();
        var other = removed == "a-1" ? "b-1" : "a-1";
        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, $"/v1/hosts/{removed}")).Status);

        var evacuation = EvacuationOf(await h.OkAsync(HttpMethod.Get, "/v1/evacuations"), "db-1");
        Assert.Equal(removed, evacuation["sourceHost"]!.GetValue<string>());
        Assert.Equal(other, evacuation["proposedHost"]!.GetValue<string>());
        var next = await h.OkAsync(HttpMethod.Post, "/v1/placements", Workload("db-2"));
        Assert.Equal(other, next["host"]!.GetValue<string>());
        Assert.DoesNotContain(next["decision"]!["rejections"]!.AsArray(), r => r!["host"]!.GetValue<string>() == removed);
        Assert.DoesNotContain(next["decision"]!["candidates"]!.AsArray(), c => c!["host"]!.GetValue<string>() == removed);
        Assert.Equal([$"hosts:{other}", $"pool golden:{other}"], await DashboardTrustedAsync(h));
    }
}

public sealed class RemovalSqliteTests : RemovalTests
{
    protected override string Provider => "sqlite";
}

public sealed class RemovalPostgresTests : RemovalTests
{
    protected override string Provider => "postgres";
}
