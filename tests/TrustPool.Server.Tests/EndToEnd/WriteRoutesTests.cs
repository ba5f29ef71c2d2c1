using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using TrustPool.Audit.Records;
using TrustPool.Evidence.Uefi;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 14's acceptance, through the real service over HTTPS and real agents (SQLite): every write route in the
/// routing table is called once, and the audit log grows by exactly that route's records, in order; the POST routes
/// that are reads grow it by none. A route that is not exercised here fails the test, so a new write route must come
/// with its records.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WriteRoutesTests
{
    private static readonly SimulatedBoot s_golden = new();

    [SkippableFact]
    public async Task EveryWriteRoute_LeavesExactlyItsAuditRecords()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var a = h.AddSoftwareHost("wr-1", s_golden);
        var b = h.AddSoftwareHost("wr-2", s_golden);
        var exercised = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var size = await SizeAsync(h);

        // Calls one route and checks what it appended once any re-attestation it caused is over (the service runs no
        // polling loop here: IntervalSeconds = 0; no host is trusted while the policy changes, so those passes find none).
        HttpClient? client = null;
        async Task<JsonNode?> Call(string route, HttpMethod method, string path, HttpStatusCode expected, JsonNode? body, params string[] records)
        {
            var (status, json) = await h.SendAsync(method, path, body, client);
            Assert.True(status == expected, $"{route}: {method} {path}: {(int)status} {json?.ToJsonString()}");
            Assert.True(await h.Server.Context.Reattestation.WhenIdleAsync(TimeSpan.FromSeconds(60)), $"{route}: re-attestation did not settle");
            var added = await EntriesFromAsync(h, size);
            Assert.True(records.SequenceEqual(added), $"{route} appended [{string.Join(", ", added)}], expected [{string.Join(", ", records)}]");
            size += added.Count;
            exercised[route] = records;
            return json;
        }

        await Call("EnrollHost", HttpMethod.Post, "/v1/hosts", HttpStatusCode.Created, new JsonObject
        {
            ["name"] = a.Name, ["agentUrl"] = a.AgentUrl.ToString(), ["agentCertFingerprint"] = a.Fingerprint,
        }, AuditRecordTypes.HostEnrolled);
        await h.EnrollAsync(b);
        size = await SizeAsync(h);
        await Call("ReEnrollHost", HttpMethod.Post, "/v1/hosts/wr-2/enroll", HttpStatusCode.OK, new JsonObject(), AuditRecordTypes.HostEnrolled);
        await Call("SetHostTags", HttpMethod.Put, "/v1/hosts/wr-1/tags", HttpStatusCode.OK,
            new JsonObject { ["tags"] = new JsonObject { ["country"] = "DE" } }, AuditRecordTypes.HostTagsChanged);
        foreach (var name in new[] { "wr-1", "wr-2" })
        {
            await Call("SetHostInventory", HttpMethod.Put, $"/v1/hosts/{name}/inventory", HttpStatusCode.OK,
                new JsonObject { ["vcpus"] = 8, ["memoryMb"] = 16384, ["diskGb"] = 200 }, AuditRecordTypes.HostInventoryChanged);
        }

        await Call("ImportBaseline", HttpMethod.Post, "/v1/baselines/import", HttpStatusCode.Created,
            new JsonObject { ["fromHost"] = "wr-1", ["kinds"] = new JsonArray("platform", "os"), ["name"] = "golden" },
            AuditRecordTypes.BaselineChanged, AuditRecordTypes.BaselineChanged);
        var os = (await h.OkAsync(HttpMethod.Get, "/v1/baselines/golden-os")).AsObject();
        os["name"] = "spare-os";
        await Call("CreateBaseline", HttpMethod.Post, "/v1/baselines", HttpStatusCode.Created, os, AuditRecordTypes.BaselineChanged);
        await Call("UpdateBaseline", HttpMethod.Put, "/v1/baselines/spare-os", HttpStatusCode.OK, os, AuditRecordTypes.BaselineChanged);
        await Call("CreatePool", HttpMethod.Post, "/v1/pools", HttpStatusCode.Created, new JsonObject
        {
            ["name"] = "spare", ["require"] = new JsonObject { ["os"] = new JsonArray("spare-os") },
        }, AuditRecordTypes.PoolChanged);
        await Call("UpdatePool", HttpMethod.Put, "/v1/pools/spare", HttpStatusCode.OK, new JsonObject
        {
            ["name"] = "spare", ["require"] = new JsonObject { ["os"] = new JsonArray("spare-os", "golden-os") },
        }, AuditRecordTypes.PoolChanged);
        await Call("DeletePool", HttpMethod.Delete, "/v1/pools/spare", HttpStatusCode.NoContent, null, AuditRecordTypes.PoolChanged);
        await Call("DeleteBaseline", HttpMethod.Delete, "/v1/baselines/spare-os", HttpStatusCode.NoContent, null, AuditRecordTypes.BaselineChanged);
        await Call("CreatePool", HttpMethod.Post, "/v1/pools", HttpStatusCode.Created, new JsonObject
        {
            ["name"] = "golden", ["require"] = new JsonObject { ["platform"] = new JsonArray("golden-platform"), ["os"] = new JsonArray("golden-os") },
        }, AuditRecordTypes.PoolChanged);

        var report = (await Call("AttestHost", HttpMethod.Post, "/v1/hosts/wr-1/attest", HttpStatusCode.OK, null, AuditRecordTypes.ReportIssued))!;
        Assert.Equal("trusted", report["trust"]!.GetValue<string>());
        await Call("AttestHost", HttpMethod.Post, "/v1/hosts/wr-2/attest", HttpStatusCode.OK, null, AuditRecordTypes.ReportIssued);
        await Call("VerifyReport", HttpMethod.Post, "/v1/reports/verify", HttpStatusCode.OK, new JsonObject { ["jws"] = report["jws"]!.GetValue<string>() });
        // Nova's TrustedFilter sends its token as x-auth-blob.
        using (var nova = h.NewClient(null))
        {
            nova.DefaultRequestHeaders.Add("x-auth-blob", h.AdminToken);
            client = nova;
            foreach (var (route, prefix) in new[] { ("PollHosts", "/OpenAttestationWebServices/V1.0"), ("PollHostsLegacy", "/AttestationService/resources") })
            {
                await Call(route, HttpMethod.Post, prefix + "/PollHosts", HttpStatusCode.OK, new JsonObject { ["count"] = 1, ["hosts"] = new JsonArray("wr-1") });
            }

            client = null;
        }

        var placed = (await Call("Place", HttpMethod.Post, "/v1/placements", HttpStatusCode.Created, new JsonObject
        {
            ["name"] = "web-1", ["resources"] = new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 1024, ["diskGb"] = 10 },
            ["trust"] = "required", ["pools"] = new JsonArray("golden"),
        }, AuditRecordTypes.PlacementMade))!;
        await Call("PlanEvacuations", HttpMethod.Post, "/v1/evacuations", HttpStatusCode.OK, null, AuditRecordTypes.EvacuationPlanned);
        await Call("ReleasePlacement", HttpMethod.Delete, $"/v1/placements/{placed["id"]!.GetValue<string>()}", HttpStatusCode.NoContent, null,
            AuditRecordTypes.PlacementReleased);

        var token = (await Call("CreateToken", HttpMethod.Post, "/v1/tokens", HttpStatusCode.Created,
            new JsonObject { ["role"] = "reader", ["name"] = "wr-reader" }, AuditRecordTypes.TokenCreated))!;
        await Call("RevokeToken", HttpMethod.Delete, $"/v1/tokens/{token["id"]!.GetValue<string>()}", HttpStatusCode.NoContent, null, AuditRecordTypes.TokenRevoked);
        var hook = (await Call("CreateWebhook", HttpMethod.Post, "/v1/webhooks", HttpStatusCode.Created,
            new JsonObject { ["url"] = "https://siem.example/hook", ["events"] = new JsonArray("trust.changed") }, AuditRecordTypes.WebhookCreated))!;
        await Call("DeleteWebhook", HttpMethod.Delete, $"/v1/webhooks/{hook["id"]!.GetValue<string>()}", HttpStatusCode.NoContent, null, AuditRecordTypes.WebhookDeleted);
        await Call("RemoveHost", HttpMethod.Delete, "/v1/hosts/wr-2", HttpStatusCode.NoContent, null, AuditRecordTypes.HostRemoved);

        // Every route that is not a GET was called above (with its records, or none for a read).
        var writes = h.Server.Endpoints
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Any(m => m is not "GET" and not "HEAD") == true)
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? e.RoutePattern.RawText!)
            .ToList();
        Assert.True(writes.Count >= 23, $"only {writes.Count} write routes found");
        Assert.All(writes, w => Assert.True(exercised.ContainsKey(w), $"write route {w} is not exercised here: call it and name the audit records it leaves"));
    }

    [SkippableFact]
    public async Task FirstStartAdminToken_IsTheFirstRecord_WithNoActor_AndNoSecret()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var page = await h.OkAsync(HttpMethod.Get, "/v1/audit/entries?from=0");
        var first = page["entries"]!.AsArray()[0]!;
        Assert.Equal(AuditRecordTypes.TokenCreated, first["type"]!.GetValue<string>());
        var fields = AuditRecordEncoding.Decode(System.Text.Encoding.UTF8.GetBytes(first["record"]!.GetValue<string>())).Fields;
        Assert.Equal("admin", fields["role"]!.GetValue<string>());
        Assert.Equal("admin (first start)", fields["name"]!.GetValue<string>());
        var tokens = await h.OkAsync(HttpMethod.Get, "/v1/tokens");
        Assert.Equal(tokens["tokens"]!.AsArray().Single()!["id"]!.GetValue<string>(), fields["tokenId"]!.GetValue<string>());
        // No request made it: no actor to name. And never the token itself.
        Assert.True(fields.ContainsKey("actor") && fields["actor"] is null);
        Assert.DoesNotContain(h.AdminToken, first["record"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static async Task<long> SizeAsync(ServiceHarness h) =>
        (await h.OkAsync(HttpMethod.Get, "/v1/audit/entries?from=0&to=0"))["size"]!.GetValue<long>();

    private static async Task<List<string>> EntriesFromAsync(ServiceHarness h, long from)
    {
        var page = await h.OkAsync(HttpMethod.Get, $"/v1/audit/entries?from={from}");
        return [.. page["entries"]!.AsArray().Select(e => e!["type"]!.GetValue<string>())];
    }
}
