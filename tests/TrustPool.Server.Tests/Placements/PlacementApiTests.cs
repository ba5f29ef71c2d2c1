using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Records;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Tests.EndToEnd;

namespace TrustPool.Server.Tests.Placements;

/// <summary>Issue 6, service side: place on trusted hosts with an explanation, refuse what cannot be placed, evacuate when trust is lost.</summary>
[Trait("Category", "Integration")]
public sealed class PlacementApiTests
{
    private static readonly SimulatedBoot s_golden = new();

    private static async Task<ServiceHarness> ThreeHostsAsync(TimeProvider? time = null)
    {
        var h = await ServiceHarness.StartAsync("sqlite", time: time);
        foreach (var (name, country) in new[] { ("de-1", "DE"), ("de-2", "DE"), ("fr-1", "FR") })
        {
            var host = h.AddSoftwareHost(name, s_golden);
            await h.EnrollAsync(host, new Dictionary<string, string> { ["country"] = country });
            await h.OkAsync(HttpMethod.Put, $"/v1/hosts/{name}/inventory", new JsonObject
            {
                ["vcpus"] = 8, ["memoryMb"] = 16384, ["diskGb"] = 200, ["idleWatts"] = 80, ["peakWatts"] = 300, ["load"] = 0.1, ["performance"] = 1.0,
            });
        }

        await AttestationServiceTests.ImportGoldenPoolAsync(h, "de-1");
        foreach (var name in new[] { "de-1", "de-2", "fr-1" })
        {
            Assert.Equal("trusted", (await h.AttestAsync(name))["trust"]!.GetValue<string>());
        }

        return h;
    }

    private static JsonObject Workload(string name, int vcpus, params string[] tags) => new()
    {
        ["name"] = name,
        ["resources"] = new JsonObject { ["vcpus"] = vcpus, ["memoryMb"] = 1024, ["diskGb"] = 10 },
        ["trust"] = "required",
        ["pools"] = new JsonArray("golden"),
        ["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]),
    };

    [SkippableFact]
    public async Task Place_TrustedTaggedHost_RecordsReportAndEvacuatesWhenTampered()
    {
        await using var h = await ThreeHostsAsync();
        var placed = await h.OkAsync(HttpMethod.Post, "/v1/placements", Workload("web-1", 2, "country=DE"));
        var host = placed["host"]!.GetValue<string>();
        Assert.StartsWith("de-", host, StringComparison.Ordinal);
        var latest = await h.OkAsync(HttpMethod.Get, $"/v1/hosts/{host}/report");
        Assert.Equal(latest["id"]!.GetValue<string>(), placed["reportId"]!.GetValue<string>());
        Assert.Contains(placed["decision"]!["rejections"]!.AsArray(), r => r!["host"]!.GetValue<string>() == "fr-1" && r["filter"]!.GetValue<string>() == "AssetTagFilter");
        Assert.NotNull(placed["decision"]!["winner"]!["weights"]);

        // Nothing in the US: refused with every host's reason.
        var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/placements", Workload("web-us", 1, "country=US"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("urn:trustpool:service:no-valid-host", problem!["type"]!.GetValue<string>());
        Assert.Equal(3, problem["decision"]!["rejections"]!.AsArray().Count);

        // The host running web-1 is tampered: the evacuation plan moves web-1 to the other German host.
        ServiceHarness.Reboot(h.Hosts[host], s_golden with { FirmwareVolume = "implant"u8.ToArray() });
        Assert.Equal("untrusted", (await h.AttestAsync(host))["trust"]!.GetValue<string>());
        // Reading the plan records nothing; planning (POST, operator) returns the same plan and records it once.
        var read = await h.OkAsync(HttpMethod.Get, "/v1/evacuations");
        Assert.DoesNotContain(await Audit.AuditLogServiceTests.EntriesAsync(h), e => e["type"]!.GetValue<string>() == AuditRecordTypes.EvacuationPlanned);
        var plan = await h.OkAsync(HttpMethod.Post, "/v1/evacuations");
        Assert.Equal(read["items"]!.ToJsonString(), plan["items"]!.ToJsonString());
        var item = Assert.Single(plan["items"]!.AsArray());
        Assert.Equal("web-1", item!["workload"]!.GetValue<string>());
        Assert.Equal(host, item["sourceHost"]!.GetValue<string>());
        Assert.Equal(host == "de-1" ? "de-2" : "de-1", item["proposedHost"]!.GetValue<string>());
        var planned = Assert.Single(await Audit.AuditLogServiceTests.EntriesAsync(h), e => e["type"]!.GetValue<string>() == AuditRecordTypes.EvacuationPlanned)!;
        var plannedFields = AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(planned["record"]!.GetValue<string>())).Fields;
        Assert.Equal("admin", plannedFields["actor"]!["role"]!.GetValue<string>());

        // Released, it is no longer listed nor evacuated.
        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, $"/v1/placements/{placed["id"]!.GetValue<string>()}")).Item1);
        Assert.Empty((await h.OkAsync(HttpMethod.Get, "/v1/placements"))["placements"]!.AsArray());
        Assert.Empty((await h.OkAsync(HttpMethod.Get, "/v1/evacuations"))["items"]!.AsArray());
        Assert.Single((await h.OkAsync(HttpMethod.Get, "/v1/placements?all=true"))["placements"]!.AsArray());
    }

    [SkippableFact]
    public async Task Place_EveryReportExpired_RefusedByTrustFilter()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        await using var h = await ThreeHostsAsync(time);
        time.Advance(TimeSpan.FromSeconds(h.Options.ReportValiditySeconds + 1));
        var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/placements", Workload("late", 1));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.All(problem!["decision"]!["rejections"]!.AsArray(), r => Assert.Equal("TrustFilter", r!["filter"]!.GetValue<string>()));
    }

    [SkippableFact]
    public async Task Place_CapacityExhausted_ExactFitThenRefused()
    {
        await using var h = await ThreeHostsAsync();
        for (var i = 0; i < 3; i++)
        {
            await h.OkAsync(HttpMethod.Post, "/v1/placements", Workload($"big-{i}", 8));
        }

        var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/placements", Workload("one-more", 1));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.All(problem!["decision"]!["rejections"]!.AsArray(), r => Assert.Equal("CapacityFilter", r!["filter"]!.GetValue<string>()));
    }

    [SkippableFact]
    public async Task BadWorkloadOrInventory_400NamingTheField()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var cases = new (string Path, JsonObject Body, string Field)[]
        {
            ("/v1/placements", new JsonObject { ["name"] = "x" }, "resources"),
            ("/v1/placements", new JsonObject { ["name"] = "x", ["resources"] = new JsonObject { ["vcpus"] = -1, ["memoryMb"] = 1, ["diskGb"] = 1 } }, "resources.vcpus"),
            ("/v1/placements", new JsonObject { ["name"] = "x", ["resources"] = new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 1, ["diskGb"] = 1 }, ["trust"] = "maybe" }, "trust"),
            ("/v1/placements", new JsonObject { ["name"] = "x", ["resources"] = new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 1, ["diskGb"] = 1 }, ["tags"] = new JsonArray("noequals") }, "tags"),
            ("/v1/placements", new JsonObject { ["name"] = "bad name", ["resources"] = new JsonObject() }, "name"),
        };
        foreach (var (path, body, field) in cases)
        {
            var (status, problem) = await h.SendAsync(HttpMethod.Post, path, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{body.ToJsonString()}: {(int)status} {problem?.ToJsonString()}");
            Assert.Equal(field, problem!["field"]!.GetValue<string>());
        }

        var (s2, p2) = await h.SendAsync(HttpMethod.Put, "/v1/hosts/nope/inventory", new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 1, ["diskGb"] = 1 });
        Assert.Equal(HttpStatusCode.NotFound, s2);
        var (s3, p3) = await h.SendAsync(HttpMethod.Put, "/v1/hosts/nope/inventory", new JsonObject { ["vcpus"] = "8" });
        Assert.Equal(HttpStatusCode.BadRequest, s3);
        Assert.Equal("vcpus", p3!["field"]!.GetValue<string>());
        _ = p2;
    }
}
