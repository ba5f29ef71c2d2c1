using System.Text.Json.Nodes;
using TrustPool.Evidence.Uefi;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 13, stale verdicts: a trusted report was judged against the policy and the host's tags of its moment. After a
/// change that narrows them, the host must not stay trusted until its next polling slot (with <c>--interval 0</c>,
/// never) or until the report expires: it is attested again at once. Real service and agents, no polling loop.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReattestationTests
{
    private static readonly SimulatedBoot s_golden = new();

    private static async Task<ServiceHarness> TrustedHostAsync(JsonObject? tags = null)
    {
        var h = await ServiceHarness.StartAsync("sqlite");
        var good = h.AddSoftwareHost("sw-1", s_golden);
        var other = h.AddSoftwareHost("sw-2", s_golden with { FirmwareVolume = "another vendor's firmware"u8.ToArray() });
        await h.EnrollAsync(good, new Dictionary<string, string> { ["country"] = "DE" });
        await h.EnrollAsync(other);
        await h.OkAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject { ["fromHost"] = "sw-1", ["kinds"] = new JsonArray("platform", "os"), ["name"] = "gold" });
        await h.OkAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject { ["fromHost"] = "sw-2", ["kinds"] = new JsonArray("platform"), ["name"] = "other-platform" });
        await h.OkAsync(HttpMethod.Post, "/v1/pools", Pool("gold-platform", tags));
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        return h;
    }

    private static JsonObject Pool(string platform, JsonObject? tags)
    {
        var require = new JsonObject { ["platform"] = new JsonArray(platform), ["os"] = new JsonArray("gold-os") };
        if (tags is not null)
        {
            require["tags"] = tags.DeepClone();
        }

        return new JsonObject { ["name"] = "p", ["require"] = require };
    }

    /// <summary>Polls the host view (no attest call) until its trust is <paramref name="expected"/> or 15 s passed.</summary>
    private static async Task<JsonNode> WaitForTrustAsync(ServiceHarness h, string host, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        JsonNode view;
        do
        {
            view = await h.OkAsync(HttpMethod.Get, $"/v1/hosts/{host}");
            if (view["trust"]!.GetValue<string>() == expected)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        return view;
    }

    [SkippableFact]
    public async Task PoolNarrowed_TrustedHost_AttestedAgainAtOnceAndUntrusted()
    {
        await using var h = await TrustedHostAsync();
        await h.OkAsync(HttpMethod.Put, "/v1/pools/p", Pool("other-platform", null));
        var view = await WaitForTrustAsync(h, "sw-1", "untrusted");
        Assert.True(view["trust"]!.GetValue<string>() == "untrusted", "still trusted after its pool stopped allowing its firmware: " + view.ToJsonString());
        var report = await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1/report");
        Assert.Contains(report["pools"]!.AsArray().SelectMany(p => p!["rules"]!.AsArray()).SelectMany(r => r!["faults"]!.AsArray()),
            f => f!["code"]!.GetValue<string>() == "PcrMismatch" && f["index"]!.GetValue<int>() == 0);
    }

    [SkippableFact]
    public async Task RequiredTagRemoved_TrustedHost_AttestedAgainAtOnceAndUntrusted()
    {
        await using var h = await TrustedHostAsync(new JsonObject { ["country"] = "DE" });
        await h.OkAsync(HttpMethod.Put, "/v1/hosts/sw-1/tags", new JsonObject { ["tags"] = new JsonObject { ["country"] = "FR" } });
        var view = await WaitForTrustAsync(h, "sw-1", "untrusted");
        Assert.True(view["trust"]!.GetValue<string>() == "untrusted", "still trusted in a country=DE pool after its tag became FR: " + view.ToJsonString());
        var report = await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1/report");
        Assert.Contains(report["pools"]!.AsArray().SelectMany(p => p!["rules"]!.AsArray()).SelectMany(r => r!["faults"]!.AsArray()),
            f => f!["code"]!.GetValue<string>() == "TagMismatch");
    }

    [SkippableFact]
    public async Task UnrelatedPoolAdded_TrustedHost_StaysTrusted()
    {
        await using var h = await TrustedHostAsync();
        var before = (await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1/report"))["id"]!.GetValue<string>();
        await h.OkAsync(HttpMethod.Post, "/v1/pools", new JsonObject
        {
            ["name"] = "q", ["require"] = new JsonObject { ["platform"] = new JsonArray("other-platform") },
        });
        // A pass runs (a new report is written) and the host is still trusted through pool p.
        JsonNode report;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        do
        {
            await Task.Delay(100);
            report = await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1/report");
        }
        while (report["id"]!.GetValue<string>() == before && DateTime.UtcNow < deadline);

        Assert.NotEqual(before, report["id"]!.GetValue<string>());
        Assert.Equal("trusted", report["trust"]!.GetValue<string>());
        Assert.Equal(["p"], report["trustedPools"]!.AsArray().Select(x => x!.GetValue<string>()));
    }
}
