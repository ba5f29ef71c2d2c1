using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using TrustPool.Audit.Records;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 13, holes 4 and 6, through the real service over HTTPS and real agents over mutual TLS (SQLite): a pool must
/// require a measurement of what booted, and only such a pool can make a host trusted; every write that can change a
/// verdict, a placement or who may act leaves an audit record, without any secret in it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PolicyAndAuditTests
{
    private static readonly SimulatedBoot s_golden = new();
    private static readonly SimulatedBoot s_implant = s_golden with { FirmwareVolume = "firmware with an implant"u8.ToArray() };
    private static readonly Dictionary<string, string> s_de = new() { ["country"] = "DE" };

    private static async Task<ServiceHarness> GoldenAsync()
    {
        var h = await ServiceHarness.StartAsync("sqlite");
        await h.EnrollAsync(h.AddSoftwareHost("honest", s_golden), s_de);
        await h.OkAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject { ["fromHost"] = "honest", ["kinds"] = new JsonArray("platform", "os"), ["name"] = "golden" });
        return h;
    }

    [SkippableFact]
    public async Task CreateOrUpdatePool_WithoutPlatformOrOsBaseline_Refused400NamingRequire()
    {
        await using var h = await GoldenAsync();
        var tagsOnly = new JsonObject { ["name"] = "de-any", ["require"] = new JsonObject { ["tags"] = new JsonObject { ["country"] = "DE" } } };
        var empty = new JsonObject { ["name"] = "de-any", ["require"] = new JsonObject { ["platform"] = new JsonArray(), ["tags"] = new JsonObject { ["country"] = "DE" } } };

        foreach (var body in new[] { tagsOnly, empty })
        {
            var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/pools", body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status} {problem?.ToJsonString()}");
            Assert.Equal("urn:trustpool:service:bad-request", problem!["type"]!.GetValue<string>());
            Assert.Equal("require", problem["field"]!.GetValue<string>());
            Assert.Contains("platform", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Empty((await h.OkAsync(HttpMethod.Get, "/v1/pools"))["pools"]!.AsArray());

        // An existing pool cannot be weakened into one either.
        await h.OkAsync(HttpMethod.Post, "/v1/pools", new JsonObject
        {
            ["name"] = "de-any",
            ["require"] = new JsonObject { ["platform"] = new JsonArray("golden-platform"), ["tags"] = new JsonObject { ["country"] = "DE" } },
        });
        var (s2, p2) = await h.SendAsync(HttpMethod.Put, "/v1/pools/de-any", tagsOnly);
        Assert.True(s2 == HttpStatusCode.BadRequest, $"{(int)s2} {p2?.ToJsonString()}");
        Assert.Equal("require", p2!["field"]!.GetValue<string>());
        var kept = await h.OkAsync(HttpMethod.Get, "/v1/pools/de-any");
        Assert.Equal(1, kept["version"]!.GetValue<int>());
        Assert.Equal(["golden-platform"], kept["require"]!["platform"]!.AsArray().Select(x => x!.GetValue<string>()));

        // Only the accepted write is in the audit log, with who made it.
        var pools = (await Audit.AuditLogServiceTests.EntriesAsync(h)).Where(e => e["type"]!.GetValue<string>() == AuditRecordTypes.PoolChanged)
            .Select(e => AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(e["record"]!.GetValue<string>())).Fields).ToList();
        var record = Assert.Single(pools);
        Assert.Equal(("created", "de-any"), (record["change"]!.GetValue<string>(), record["name"]!.GetValue<string>()));
        Assert.Equal("admin", record["actor"]!["role"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task TamperedFirmware_TagsMatchAndStoredTagsOnlyPool_UntrustedInReportAndPollHosts()
    {
        await using var h = await GoldenAsync();
        await h.EnrollAsync(h.AddSoftwareHost("implant", s_implant), s_de);
        await h.OkAsync(HttpMethod.Post, "/v1/pools", new JsonObject
        {
            ["name"] = "golden",
            ["require"] = new JsonObject
            {
                ["platform"] = new JsonArray("golden-platform"), ["os"] = new JsonArray("golden-os"), ["tags"] = new JsonObject { ["country"] = "DE" },
            },
        });

        // A tags-only pool stored before pools had to require a measurement (the API refuses it now).
        await using (var tx = await h.Server.Context.Store.BeginAsync())
        {
            await tx.UpsertPoolAsync(new PoolRecord("de-any", 0, """{"name":"de-any","version":1,"require":{"platform":[],"os":[],"software":[],"hostUnique":[],"tags":{"country":"DE"}}}""", DateTimeOffset.UtcNow));
            await tx.CommitAsync();
        }

        h.Server.Context.Policy.Invalidate();

        var tampered = await h.AttestAsync("implant");
        Assert.True(tampered["trust"]!.GetValue<string>() == "untrusted", tampered.ToJsonString());
        Assert.Empty(tampered["trustedPools"]!.AsArray());
        var legacy = tampered["pools"]!.AsArray().Single(p => p!["pool"]!.GetValue<string>() == "de-any")!;
        Assert.Equal("untrusted", legacy["trust"]!.GetValue<string>());
        var codes = legacy["rules"]!.AsArray().SelectMany(r => r!["faults"]!.AsArray()).Select(f => f!["code"]!.GetValue<string>()).ToList();
        Assert.Contains("PoolRequiresNoMeasurement", codes);
        var tagsRule = legacy["rules"]!.AsArray().Single(r => r!["rule"]!.GetValue<string>() == "tags")!;
        Assert.True(tagsRule["passed"]!.GetValue<bool>());
        Assert.Equal("asserted", tagsRule["tagSource"]!.GetValue<string>());
        var pcr0 = tampered["pools"]!.AsArray().Single(p => p!["pool"]!.GetValue<string>() == "golden")!["rules"]!.AsArray()
            .SelectMany(r => r!["faults"]!.AsArray()).Single(f => f!["code"]!.GetValue<string>() == "PcrMismatch" && f["index"]!.GetValue<int>() == 0)!;
        Assert.Equal("EV_EFI_PLATFORM_FIRMWARE_BLOB", pcr0["eventType"]!.GetValue<string>());

        // The honest host is trusted, and the report names the one pool that made it so (not the tags-only one).
        var honest = await h.AttestAsync("honest");
        Assert.True(honest["trust"]!.GetValue<string>() == "trusted", honest.ToJsonString());
        Assert.Equal(["golden"], honest["trustedPools"]!.AsArray().Select(x => x!.GetValue<string>()));

        // Host views label the tags as operator-asserted; the legacy pool still lists (no 5xx) with no trusted host.
        var view = await h.OkAsync(HttpMethod.Get, "/v1/hosts/implant");
        Assert.Equal("untrusted", view["trust"]!.GetValue<string>());
        Assert.Equal("asserted", view["tagSource"]!.GetValue<string>());
        Assert.Empty((await h.OkAsync(HttpMethod.Get, "/v1/pools/de-any"))["trustedHosts"]!.AsArray());
        Assert.Equal(2, (await h.OkAsync(HttpMethod.Get, "/v1/pools"))["pools"]!.AsArray().Count);

        // Nova's TrustedFilter sees the same.
        var reader = (await h.OkAsync(HttpMethod.Post, "/v1/tokens", new JsonObject { ["role"] = "reader", ["name"] = "nova" }))["token"]!.GetValue<string>();
        using var nova = h.NewClient(null);
        nova.DefaultRequestHeaders.Add("x-auth-blob", reader);
        var (status, poll) = await h.SendAsync(HttpMethod.Post, "/OpenAttestationWebServices/V1.0/PollHosts",
            new JsonObject { ["count"] = 2, ["hosts"] = new JsonArray("implant", "honest") }, nova);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["untrusted", "trusted"], poll!["hosts"]!.AsArray().Select(x => x!["trust_lvl"]!.GetValue<string>()));
    }

    [SkippableFact]
    public async Task TrustRelevantWrites_EachAppendsAuditRecordWithActor_NoSecretInAnyRecord()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite", o => o with { CheckpointIntervalSeconds = 0 });
        await h.EnrollAsync(h.AddSoftwareHost("au-1", s_golden), s_de);
        var admin = Assert.Single((await h.OkAsync(HttpMethod.Get, "/v1/tokens"))["tokens"]!.AsArray())!;
        var adminId = admin["id"]!.GetValue<string>();

        await h.OkAsync(HttpMethod.Put, "/v1/hosts/au-1/tags", new JsonObject { ["tags"] = new JsonObject { ["country"] = "FR", ["rack"] = "r7" } });
        var inventory = new JsonObject { ["vcpus"] = 8, ["memoryMb"] = 16384, ["diskGb"] = 200, ["idleWatts"] = 80, ["peakWatts"] = 300, ["load"] = 0.1, ["performance"] = 1.0 };
        await h.OkAsync(HttpMethod.Put, "/v1/hosts/au-1/inventory", inventory);
        var created = await h.OkAsync(HttpMethod.Post, "/v1/tokens", new JsonObject { ["role"] = "operator", ["name"] = "ci-bot" });
        var tokenId = created["id"]!.GetValue<string>();
        var token = created["token"]!.GetValue<string>();
        await h.OkAsync(HttpMethod.Delete, $"/v1/tokens/{tokenId}");
        var hook = await h.OkAsync(HttpMethod.Post, "/v1/webhooks", new JsonObject { ["url"] = "https://siem.example/hook", ["events"] = new JsonArray("trust.changed") });
        var hookId = hook["id"]!.GetValue<string>();
        var hookSecret = hook["secret"]!.GetValue<string>();
        await h.OkAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}");

        // Refused writes leave nothing.
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Put, "/v1/hosts/nope/tags", new JsonObject { ["tags"] = new JsonObject() })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Delete, $"/v1/tokens/{tokenId}")).Status);

        // After the first start's admin token (token.created with no actor; WriteRoutesTests checks it).
        var entries = (await Audit.AuditLogServiceTests.EntriesAsync(h)).Skip(1);
        var records = entries.Select(e => (Type: e["type"]!.GetValue<string>(), Text: e["record"]!.GetValue<string>(),
            Fields: AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(e["record"]!.GetValue<string>())).Fields)).ToList();
        JsonObject Only(string type) => Assert.Single(records, r => r.Type == type).Fields;
        void ByAdmin(JsonObject f)
        {
            Assert.Equal(adminId, f["actor"]!["tokenId"]!.GetValue<string>());
            Assert.Equal("admin", f["actor"]!["role"]!.GetValue<string>());
        }

        var enrolled = Only(AuditRecordTypes.HostEnrolled);
        Assert.Equal("DE", enrolled["tags"]!["country"]!.GetValue<string>());
        Assert.Equal("asserted", enrolled["tagSource"]!.GetValue<string>());

        var tags = Only(AuditRecordTypes.HostTagsChanged);
        Assert.Equal("au-1", tags["host"]!.GetValue<string>());
        Assert.Equal("asserted", tags["tagSource"]!.GetValue<string>());
        Assert.Equal("""{"country":"DE"}""", tags["old"]!.ToJsonString());
        Assert.Equal("""{"country":"FR","rack":"r7"}""", tags["new"]!.ToJsonString());
        ByAdmin(tags);

        var inv = Only(AuditRecordTypes.HostInventoryChanged);
        Assert.Equal("au-1", inv["host"]!.GetValue<string>());
        Assert.Null(inv["old"]);
        Assert.Equal(16384, JsonNode.Parse(inv["new"]!.GetValue<string>())!["memoryMb"]!.GetValue<int>());
        ByAdmin(inv);

        var tc = Only(AuditRecordTypes.TokenCreated);
        Assert.Equal((tokenId, "ci-bot", "operator"), (tc["tokenId"]!.GetValue<string>(), tc["name"]!.GetValue<string>(), tc["role"]!.GetValue<string>()));
        ByAdmin(tc);
        var tr = Only(AuditRecordTypes.TokenRevoked);
        Assert.Equal((tokenId, "ci-bot", "operator"), (tr["tokenId"]!.GetValue<string>(), tr["name"]!.GetValue<string>(), tr["role"]!.GetValue<string>()));
        ByAdmin(tr);

        var wc = Only(AuditRecordTypes.WebhookCreated);
        // The origin only (a receiver's URL often carries its own credential) and the digest of the full URL.
        var urlSha256 = Convert.ToHexStringLower(SHA256.HashData("https://siem.example/hook"u8));
        Assert.Equal((hookId, "https://siem.example", urlSha256), (wc["webhookId"]!.GetValue<string>(), wc["urlOrigin"]!.GetValue<string>(), wc["urlSha256"]!.GetValue<string>()));
        Assert.DoesNotContain("/hook", Assert.Single(records, r => r.Type == AuditRecordTypes.WebhookCreated).Text, StringComparison.Ordinal);
        Assert.Equal(["trust.changed"], wc["events"]!.AsArray().Select(x => x!.GetValue<string>()));
        ByAdmin(wc);
        var wd = Only(AuditRecordTypes.WebhookDeleted);
        Assert.Equal((hookId, "https://siem.example", urlSha256), (wd["webhookId"]!.GetValue<string>(), wd["urlOrigin"]!.GetValue<string>(), wd["urlSha256"]!.GetValue<string>()));
        ByAdmin(wd);

        // No secret, nor the stored digest of one, in any record: the tokens (clear text, SHA-256 hex and base64) and the HMAC key.
        var hookKey = Convert.FromBase64String(hookSecret);
        string[] secrets =
        [
            token, h.AdminToken, hookSecret, Convert.ToHexStringLower(hookKey), Convert.ToBase64String(hookKey).TrimEnd('='),
            .. new[] { token, h.AdminToken }.SelectMany(t => new[]
            {
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(t))), Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(t))).TrimEnd('='),
            }),
        ];
        foreach (var r in records)
        {
            foreach (var secret in secrets)
            {
                Assert.False(r.Text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{r.Type} holds a secret: {r.Text}");
            }
        }
    }

    [SkippableFact]
    public async Task HostBaselineAndPlacementWrites_ByOperatorToken_EachRecordNamesThatTokenAsActor_NoSecret()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var created = await h.OkAsync(HttpMethod.Post, "/v1/tokens", new JsonObject { ["role"] = "operator", ["name"] = "ops-alice" });
        var (opId, opToken) = (created["id"]!.GetValue<string>(), created["token"]!.GetValue<string>());
        using var op = h.NewClient(opToken);
        async Task<JsonNode?> AsOperator(HttpMethod method, string path, HttpStatusCode expected, JsonNode? body = null)
        {
            var (status, json) = await h.SendAsync(method, path, body, op);
            Assert.True(status == expected, $"{method} {path}: {(int)status} {json?.ToJsonString()}");
            return json;
        }

        var host = h.AddSoftwareHost("ac-1", s_golden);
        await AsOperator(HttpMethod.Post, "/v1/hosts", HttpStatusCode.Created, new JsonObject
        {
            ["name"] = host.Name, ["agentUrl"] = host.AgentUrl.ToString(), ["agentCertFingerprint"] = host.Fingerprint, ["tags"] = new JsonObject { ["country"] = "DE" },
        });
        await AsOperator(HttpMethod.Post, "/v1/hosts/ac-1/enroll", HttpStatusCode.OK, new JsonObject());
        await AsOperator(HttpMethod.Post, "/v1/baselines/import", HttpStatusCode.Created,
            new JsonObject { ["fromHost"] = "ac-1", ["kinds"] = new JsonArray("platform", "os"), ["name"] = "ac" });
        var exported = (await AsOperator(HttpMethod.Get, "/v1/baselines/ac-os", HttpStatusCode.OK))!;
        await AsOperator(HttpMethod.Put, "/v1/baselines/ac-os", HttpStatusCode.OK, exported);
        Assert.Empty((await h.OkAsync(HttpMethod.Get, "/v1/pools"))["pools"]!.AsArray());
        await AsOperator(HttpMethod.Delete, "/v1/baselines/ac-platform", HttpStatusCode.NoContent);
        await AsOperator(HttpMethod.Put, "/v1/hosts/ac-1/inventory", HttpStatusCode.OK, new JsonObject
        {
            ["vcpus"] = 8, ["memoryMb"] = 16384, ["diskGb"] = 200, ["idleWatts"] = 80, ["peakWatts"] = 300, ["load"] = 0.1, ["performance"] = 1.0,
        });
        var placed = (await AsOperator(HttpMethod.Post, "/v1/placements", HttpStatusCode.Created, new JsonObject
        {
            ["name"] = "batch-1", ["resources"] = new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 512, ["diskGb"] = 1 }, ["trust"] = "any",
        }))!;
        var placementId = placed["id"]!.GetValue<string>();
        await AsOperator(HttpMethod.Delete, $"/v1/placements/{placementId}", HttpStatusCode.NoContent);
        await AsOperator(HttpMethod.Delete, "/v1/hosts/ac-1", HttpStatusCode.NoContent);

        // After the first start's admin token (token.created with no actor; WriteRoutesTests checks it).
        var records = (await Audit.AuditLogServiceTests.EntriesAsync(h)).Skip(1).Select(e => (Type: e["type"]!.GetValue<string>(), Text: e["record"]!.GetValue<string>(),
            Fields: AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(e["record"]!.GetValue<string>())).Fields)).ToList();
        List<JsonObject> Of(string type) => [.. records.Where(r => r.Type == type).Select(r => r.Fields)];
        void ByOperator(JsonObject f)
        {
            var actor = f["actor"]!.AsObject();
            Assert.Equal((opId, "ops-alice", "operator"), (actor["tokenId"]!.GetValue<string>(), actor["name"]!.GetValue<string>(), actor["role"]!.GetValue<string>()));
            Assert.Equal(["name", "role", "tokenId"], actor.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        }

        var enrolled = Of(AuditRecordTypes.HostEnrolled);
        Assert.Equal([false, true], enrolled.Select(f => f["reenrolled"]!.GetValue<bool>()));
        var baselines = Of(AuditRecordTypes.BaselineChanged);
        Assert.Equal([("created", "ac-platform"), ("created", "ac-os"), ("changed", "ac-os"), ("deleted", "ac-platform")],
            baselines.Select(f => (f["change"]!.GetValue<string>(), f["name"]!.GetValue<string>())));
        var made = Assert.Single(Of(AuditRecordTypes.PlacementMade));
        var released = Assert.Single(Of(AuditRecordTypes.PlacementReleased));
        Assert.Equal([placementId, placementId], new[] { made, released }.Select(f => f["placementId"]!.GetValue<string>()));
        var removed = Assert.Single(Of(AuditRecordTypes.HostRemoved));
        Assert.Equal("ac-1", removed["host"]!.GetValue<string>());
        foreach (var f in (JsonObject[])[.. enrolled, .. baselines, made, released, removed, Assert.Single(Of(AuditRecordTypes.HostInventoryChanged))])
        {
            ByOperator(f);
        }

        // The operator token was made by the admin; and no token, nor its stored digest, in any record.
        Assert.Equal("admin", Assert.Single(Of(AuditRecordTypes.TokenCreated))["actor"]!["role"]!.GetValue<string>());
        string[] secrets =
        [
            .. new[] { opToken, h.AdminToken }.SelectMany(t => new[]
            {
                t, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(t))), Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(t))).TrimEnd('='),
            }),
        ];
        foreach (var r in records)
        {
            foreach (var secret in secrets)
            {
                Assert.False(r.Text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{r.Type} holds a secret: {r.Text}");
            }
        }
    }

    /// <summary>
    /// Every write route of the service, by its endpoint name, and the audit record it appends (or why it writes
    /// nothing). A new write route fails this test until it is audited and listed here.
    /// </summary>
    private static readonly Dictionary<string, string> s_writeRoutes = new(StringComparer.Ordinal)
    {
        ["EnrollHost"] = AuditRecordTypes.HostEnrolled,
        ["ReEnrollHost"] = AuditRecordTypes.HostEnrolled,
        ["RemoveHost"] = AuditRecordTypes.HostRemoved,
        ["AttestHost"] = AuditRecordTypes.ReportIssued,
        ["SetHostTags"] = AuditRecordTypes.HostTagsChanged,
        ["SetHostInventory"] = AuditRecordTypes.HostInventoryChanged,
        ["ImportBaseline"] = AuditRecordTypes.BaselineChanged,
        ["CreateBaseline"] = AuditRecordTypes.BaselineChanged,
        ["UpdateBaseline"] = AuditRecordTypes.BaselineChanged,
        ["DeleteBaseline"] = AuditRecordTypes.BaselineChanged,
        ["CreatePool"] = AuditRecordTypes.PoolChanged,
        ["UpdatePool"] = AuditRecordTypes.PoolChanged,
        ["DeletePool"] = AuditRecordTypes.PoolChanged,
        ["Place"] = AuditRecordTypes.PlacementMade,
        ["ReleasePlacement"] = AuditRecordTypes.PlacementReleased,
        ["PlanEvacuations"] = AuditRecordTypes.EvacuationPlanned,
        ["CreateToken"] = AuditRecordTypes.TokenCreated,
        ["RevokeToken"] = AuditRecordTypes.TokenRevoked,
        ["CreateWebhook"] = AuditRecordTypes.WebhookCreated,
        ["DeleteWebhook"] = AuditRecordTypes.WebhookDeleted,
        ["VerifyReport"] = "read-only: checks a JWS, stores nothing",
        ["PollHosts"] = "read-only: OpenAttestation trust query",
        ["PollHostsLegacy"] = "read-only: OpenAttestation trust query",
    };

    [SkippableFact]
    public async Task EveryWriteRoute_IsListedWithItsAuditRecord()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");

        var writes = h.Server.Endpoints
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Any(m => m != "GET" && m != "HEAD") == true)
            .Select(e => (Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName, Route: e.RoutePattern.RawText))
            .ToList();

        Assert.True(writes.Count >= 20, $"only {writes.Count} write routes found");
        foreach (var (name, route) in writes)
        {
            Assert.True(name is not null && s_writeRoutes.ContainsKey(name), $"write route {route} ({name}) is not classified: audit it and list it here");
        }

        Assert.All(s_writeRoutes.Values.Where(v => !v.StartsWith("read-only", StringComparison.Ordinal)), t => Assert.True(AuditRecordTypes.IsKnown(t), t));
    }
}
