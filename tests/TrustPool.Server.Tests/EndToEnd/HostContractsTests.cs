using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Server.Api;
using TrustPool.Server.Api.Contracts;
using TrustPool.Evidence.Uefi;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// The typed host and report contracts (issue 14): the report view is the signed payload's members plus the JWS, member
/// for member, and the OpenAPI document describes the request and response bodies of the host and report routes.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HostContractsTests
{
    private static readonly SimulatedBoot s_golden = new();

    private static JsonSerializerOptions ApiOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ApiJson.Configure(options);
        return options;
    }

    [Fact]
    public void ReportView_EveryMemberSet_SerializesAsTheSignedPayloadPlusJws()
    {
        var fault = new Fault("PcrMismatch", "PCR[0] sha256 expected aa got bb")
        {
            Bank = "sha256", Index = 0, Expected = "aa", Actual = "bb", EventNumber = 12, EventType = "EV_EFI_PLATFORM_FIRMWARE_BLOB", Detail = "d",
        };
        var report = new TrustReport
        {
            Id = "0123456789abcdef0123456789abcdef",
            Host = "h-1",
            Enrollment = "e-1",
            Trust = TrustLevel.Untrusted,
            EkTrust = "ca",
            VerifiedAt = new DateTimeOffset(2026, 12, 4, 21, 17, 4, 123, TimeSpan.Zero).AddTicks(4567),
            ValidFrom = new DateTimeOffset(2026, 12, 4, 21, 17, 4, TimeSpan.FromHours(1)),
            ValidTo = new DateTimeOffset(2026, 12, 4, 22, 17, 4, TimeSpan.Zero),
            Faults = [new Fault("NoPoolMatched", "no pool matched")],
            Pools =
            [
                new PoolResult("gold", 3, TrustLevel.Untrusted,
                [
                    new RuleResult("platform", false, "gold-platform", 2, [fault]),
                    new RuleResult("tags", true, null, null, []) { TagSource = "asserted" },
                ]),
            ],
            TrustedPools = [],
            Pcrs = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["sha256"] = new Dictionary<string, string> { ["0"] = "aa", ["7"] = "cc" } },
            Nonce = "00ff",
            Clock = new ReportClock(ulong.MaxValue, 4, 5, true),
            Baselines = [new BaselineRef("gold-platform", 2, "platform"), new BaselineRef("gold-hu", 1, "host-unique")],
        };

        var expected = JsonNode.Parse(TrustReportJson.Serialize(report))!.AsObject();
        expected["jws"] = "a.b.c";
        var view = JsonSerializer.SerializeToNode(ReportView.From(report, "a.b.c"), ApiOptions())!;
        Assert.True(JsonNode.DeepEquals(expected, view), $"expected {expected.ToJsonString()}\n     got {view.ToJsonString()}");

        // A sparse report (no enrollment, nonce or clock) leaves those members out, as the payload does.
        var sparse = report with { Enrollment = null, Nonce = null, Clock = null, Pools = [], Faults = [] };
        var sparseExpected = JsonNode.Parse(TrustReportJson.Serialize(sparse))!.AsObject();
        sparseExpected["jws"] = "x";
        sparseExpected["currentTrust"] = "unknown";
        var sparseView = JsonSerializer.SerializeToNode(ReportView.From(sparse, "x") with { CurrentTrust = "unknown" }, ApiOptions())!;
        Assert.True(JsonNode.DeepEquals(sparseExpected, sparseView), $"expected {sparseExpected.ToJsonString()}\n     got {sparseView.ToJsonString()}");
        Assert.False(sparseView.AsObject().ContainsKey("nonce"));
    }

    [Fact]
    public async Task HostAndReportRoutes_AnswerTheSignedPayloadAndHostView()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var enrolled = await h.EnrollAsync(h.AddSoftwareHost("ct-1", s_golden), new Dictionary<string, string> { ["rack"] = "r1" });
        Assert.Equal(
            ["name", "agentUrl", "tlsFingerprint", "akName", "ekCertificate", "ekTrust", "state", "tags", "tagSource", "enrolledAt", "trust", "reportId", "verifiedAt", "validTo"],
            enrolled.AsObject().Select(p => p.Key));
        Assert.Null(enrolled["reportId"]);
        Assert.Equal("r1", enrolled["tags"]!["rack"]!.GetValue<string>());

        var shown = await h.OkAsync(HttpMethod.Get, "/v1/hosts/ct-1");
        Assert.True(shown.AsObject().ContainsKey("report"));
        Assert.Null(shown["report"]);

        var attested = await h.AttestAsync("ct-1");
        var jws = attested["jws"]!.GetValue<string>();
        var payload = JsonNode.Parse(Encoding.UTF8.GetString(Base64UrlDecode(jws.Split('.')[1])))!.AsObject();
        // The signed payload also carries the JWT claims (jti, sub, iat, nbf, exp); the view is the report's own members.
        foreach (var claim in new[] { "jti", "sub", "iat", "nbf", "exp" })
        {
            Assert.True(payload.Remove(claim), claim);
        }

        payload["jws"] = jws;
        Assert.True(JsonNode.DeepEquals(payload, attested), $"attest: {attested.ToJsonString()}");

        var latest = await h.OkAsync(HttpMethod.Get, "/v1/hosts/ct-1/report");
        var byId = await h.OkAsync(HttpMethod.Get, $"/v1/reports/{attested["id"]!.GetValue<string>()}");
        foreach (var node in new[] { latest, byId })
        {
            var withTrust = payload.DeepClone().AsObject();
            withTrust["currentTrust"] = node["currentTrust"]!.GetValue<string>();
            Assert.True(JsonNode.DeepEquals(withTrust, node), $"report: {node.ToJsonString()}");
        }

        Assert.True(JsonNode.DeepEquals(payload, (await h.OkAsync(HttpMethod.Get, "/v1/hosts/ct-1"))["report"]));
        Assert.True(JsonNode.DeepEquals(payload, (await h.OkAsync(HttpMethod.Get, "/v1/hosts/ct-1/reports"))["reports"]![0]));

        var verified = await h.OkAsync(HttpMethod.Post, "/v1/reports/verify", new JsonObject { ["jws"] = jws });
        Assert.True(verified["valid"]!.GetValue<bool>());
        Assert.True(verified.AsObject().ContainsKey("reason"));
        var signed = payload.DeepClone().AsObject();
        signed.Remove("jws");
        Assert.True(JsonNode.DeepEquals(signed, verified["report"]));

        // The agent gone while its report still holds: 502 naming the report that still applies.
        await h.Agents.DisposeAsync();
        var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/hosts/ct-1/attest");
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, status);
        Assert.StartsWith("urn:trustpool:service:agent-", problem!["type"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(attested["id"]!.GetValue<string>(), problem["currentReportId"]!.GetValue<string>());
        Assert.Equal(attested["trust"]!.GetValue<string>(), problem["currentTrust"]!.GetValue<string>());
        // The stored row keeps milliseconds.
        Assert.InRange(attested["validTo"]!.GetValue<DateTimeOffset>() - problem["validTo"]!.GetValue<DateTimeOffset>(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task OpenApi_HostAndReportOperations_HaveRequestAndResponseSchemas()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        using var anonymous = h.NewClient(null);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;
        var paths = doc["paths"]!;

        JsonNode Operation(string path, string method) => paths[path]?[method] ?? throw new InvalidOperationException($"{method} {path} missing");

        foreach (var (path, method, status) in new[]
        {
            ("/v1/hosts", "post", "201"), ("/v1/hosts", "get", "200"), ("/v1/hosts/{name}", "get", "200"),
            ("/v1/hosts/{name}/attest", "post", "200"), ("/v1/hosts/{name}/enroll", "post", "200"), ("/v1/hosts/{name}/tags", "put", "200"),
            ("/v1/hosts/{name}/report", "get", "200"), ("/v1/hosts/{name}/reports", "get", "200"), ("/v1/reports/{id}", "get", "200"),
            ("/v1/reports/verify", "post", "200"), ("/OpenAttestationWebServices/V1.0/PollHosts", "post", "200"),
        })
        {
            var op = Operation(path, method);
            Assert.True(op["responses"]?[status]?["content"]?["application/json"]?["schema"] is not null, $"{method} {path}: no {status} schema");
            if (path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                Assert.True(op["responses"]!["401"] is not null && op["responses"]!["403"] is not null, $"{method} {path}: 401/403 not declared");
            }
        }

        foreach (var (path, method) in new[] { ("/v1/hosts", "post"), ("/v1/hosts/{name}/enroll", "post"), ("/v1/hosts/{name}/tags", "put"), ("/v1/reports/verify", "post") })
        {
            Assert.True(Operation(path, method)["requestBody"]?["content"]?["application/json"]?["schema"] is not null, $"{method} {path}: no request schema");
        }

        Assert.NotNull(Operation("/v1/hosts/{name}/attest", "post")["responses"]!["502"]!["content"]!["application/problem+json"]);
        Assert.NotNull(Operation("/v1/hosts/{name}", "delete")["responses"]!["204"]);
        Assert.NotNull(Operation("/v1/keys", "get")["responses"]!["200"]!["content"]!["application/jwk-set+json"]!["schema"]);

        var schemas = doc["components"]!["schemas"]!;
        foreach (var (schema, property) in new[]
        {
            ("ReportView", "jws"), ("ReportView", "pools"), ("ReportView", "currentTrust"), ("PoolResultView", "rules"), ("RuleResultView", "faults"),
            ("FaultView", "expected"), ("HostView", "trust"), ("HostDetailView", "report"), ("EnrollHostRequest", "agentUrl"), ("PollHostsHost", "host_name"),
        })
        {
            Assert.True(schemas[schema]?["properties"]?[property] is not null, $"{schema}.{property} missing from the schemas");
        }
    }

    private static byte[] Base64UrlDecode(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '='));
    }
}
