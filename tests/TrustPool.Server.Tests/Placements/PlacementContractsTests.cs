using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Scheduling;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Placements;
using TrustPool.Server.Storage;
using TrustPool.Server.Tests.EndToEnd;

namespace TrustPool.Server.Tests.Placements;

/// <summary>
/// The placement contracts keep the wire JSON of the hand-built objects they replaced (clients and stored placement
/// documents rely on it), and every placement and admin operation carries its schemas in /openapi/v1.json.
/// </summary>
public sealed class PlacementContractsTests
{
    [Fact]
    public void WorkloadView_FromParsedRequest_StoredShapeWithLowercaseVcpusDefaultsAndTagsAsWritten()
    {
        var request = WorkloadJson.Parse(JsonNode.Parse("""{"name":"web-1","resources":{"vcpus":2,"memoryMb":1024,"diskGb":10},"tags":["country=DE","!zone=dmz"]}""")!);

        var json = JsonSerializer.Serialize(WorkloadView.From(request), PlacementJsonContext.Default.WorkloadView);

        Assert.Equal(
            """{"name":"web-1","resources":{"vcpus":2,"memoryMb":1024,"diskGb":10},"trust":"required","pools":[],"tags":["country=DE","!zone=dmz"],"affinityGroup":null,"antiAffinityGroup":null}""",
            json);
        // What is stored parses back to the same request (HostViews reads placements this way).
        Assert.Equal(json, JsonSerializer.Serialize(WorkloadView.From(WorkloadJson.Parse(JsonNode.Parse(json)!)), PlacementJsonContext.Default.WorkloadView));
    }

    [Fact]
    public void PlacementDecisionView_NotPlaced_NullsWrittenAndListsEmpty()
    {
        var decision = new PlacementDecision(new WorkloadRequest { Name = "w" }, null, null, null, [new Rejection("h1", "TrustFilter", "untrusted")], null, []);

        var json = JsonSerializer.Serialize(PlacementDecisionView.From(decision), PlacementJsonContext.Default.PlacementDecisionView);

        Assert.Equal(
            """{"placed":false,"host":null,"reportId":null,"reportValidTo":null,"winner":null,"candidates":[],"rejections":[{"host":"h1","filter":"TrustFilter","reason":"untrusted"}]}""",
            json);
    }

    [Fact]
    public void PlacementView_FromRecord_EmbedsStoredRequestAndDecisionAsObjects()
    {
        var at = new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);
        var winner = new WeighedHost("h1", 0.5, new Dictionary<string, double> { ["LoadWeigher"] = 0.25, ["PowerWeigher"] = 0.25 });
        var decision = new PlacementDecision(new WorkloadRequest { Name = "w" }, "h1", "r1", at.AddMinutes(5), [], winner, [winner]);
        var request = WorkloadView.From(new WorkloadRequest { Name = "w", Resources = new Resources(1, 2, 3) });
        var record = new PlacementRecord("p1", "w", "h1", "r1",
            JsonSerializer.Serialize(request, PlacementJsonContext.Default.WorkloadView),
            JsonSerializer.Serialize(PlacementDecisionView.From(decision), PlacementJsonContext.Default.PlacementDecisionView), at, null);

        var view = JsonNode.Parse(JsonSerializer.Serialize(PlacementView.From(record), PlacementJsonContext.Default.PlacementView))!;

        Assert.Equal(["id", "workload", "host", "reportId", "createdAt", "releasedAt", "request", "decision"], view.AsObject().Select(p => p.Key));
        Assert.Null(view["releasedAt"]);
        Assert.Equal(3, view["request"]!["resources"]!["diskGb"]!.GetValue<long>());
        Assert.Equal(0.25, view["decision"]!["winner"]!["weights"]!["LoadWeigher"]!.GetValue<double>());
        Assert.Equal("h1", view["decision"]!["candidates"]![0]!["host"]!.GetValue<string>());
    }

    [SkippableFact]
    [Trait("Category", "Integration")]
    public async Task OpenApi_PlacementAndAdminOperations_HaveResponseSchemasAndBodiesTheirRequestSchema()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        using var anonymous = h.NewClient(null);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;
        var operations = new (string Path, string Method, string Status, string? Response, string? Request)[]
        {
            ("/v1/placements", "post", "201", "PlacementView", "PlaceWorkloadRequest"),
            ("/v1/placements", "get", "200", "PlacementList", null),
            ("/v1/placements/{id}", "get", "200", "PlacementView", null),
            ("/v1/placements/{id}", "delete", "204", null, null),
            ("/v1/evacuations", "get", "200", "EvacuationPlanView", null),
            ("/v1/evacuations", "post", "200", "EvacuationPlanView", null),
            ("/v1/hosts/{name}/inventory", "put", "200", "HostInventory", "SetHostInventoryRequest"),
            ("/v1/tokens", "post", "201", "CreatedToken", "CreateTokenRequest"),
            ("/v1/tokens", "get", "200", "TokenList", null),
            ("/v1/tokens/{id}", "delete", "204", null, null),
            ("/v1/webhooks", "post", "201", "CreatedWebhook", "CreateWebhookRequest"),
            ("/v1/webhooks", "get", "200", "WebhookList", null),
            ("/v1/webhooks/{id}", "delete", "204", null, null),
        };
        foreach (var (path, method, status, response, request) in operations)
        {
            var op = doc["paths"]![path]![method]!;
            var responses = op["responses"]!.AsObject();
            Assert.True(responses.ContainsKey(status), $"{method} {path}: no {status} in {string.Join(", ", responses.Select(r => r.Key))}");
            Assert.True(responses.ContainsKey("401") && responses.ContainsKey("403"), $"{method} {path}: 401/403 not declared");
            if (response is not null)
            {
                Assert.Equal($"#/components/schemas/{response}", responses[status]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
            }

            if (request is not null)
            {
                Assert.Equal($"#/components/schemas/{request}", op["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
            }
        }

        // The request schemas say what the parser requires, no more.
        Assert.Equal(["name", "resources"], doc["components"]!["schemas"]!["PlaceWorkloadRequest"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["vcpus", "memoryMb", "diskGb"], doc["components"]!["schemas"]!["SetHostInventoryRequest"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()));
    }
}
