using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.OpenStack;
using TrustPool.Server.Tests.EndToEnd;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.OpenStack;

/// <summary>
/// Issue 6: trait sync against the real OpenStack Placement (Debian's python3-placement, noauth2, started on
/// loopback by scripts/test.sh as TRUSTPOOL_TEST_PLACEMENT). Provider names carry a random suffix so tests sharing
/// one Placement never see each other's providers.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PlacementSyncTests
{
    private static readonly SimulatedBoot s_golden = new();

    private static Uri PlacementUrl()
    {
        var url = Environment.GetEnvironmentVariable("TRUSTPOOL_TEST_PLACEMENT");
        Integration.SkipOrFailUnless(!string.IsNullOrEmpty(url), "TRUSTPOOL_TEST_PLACEMENT is not set (scripts/test.sh starts OpenStack Placement and sets it)");
        return new Uri(url!);
    }

    /// <summary>An operator's view of Placement: creates providers and inventories, sets foreign traits, asks for candidates.</summary>
    private sealed class PlacementAdmin : IDisposable
    {
        private readonly HttpClient _http;

        public PlacementAdmin(Uri url)
        {
            _http = new HttpClient { BaseAddress = new Uri(url.ToString().TrimEnd('/') + "/") };
            // wsgiref answers HTTP/1.0 and closes after each response: never reuse a connection it may be closing.
            _http.DefaultRequestHeaders.ConnectionClose = true;
            _http.DefaultRequestHeaders.Add("X-Auth-Token", "admin");
            _http.DefaultRequestHeaders.Add("OpenStack-API-Version", "placement 1.39");
            _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        }

        /// <summary>
        /// One request; a transport failure is retried (wsgiref, single-shot connections, has dropped a finished
        /// response once in a few hundred runs). Every write here is made idempotent for that: providers are created
        /// with our own uuid (a retry finds the first one), generation-checked PUTs are re-sent with the current
        /// generation (they set the whole state, so applying them twice is the same as once).
        /// </summary>
        public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body = null)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await SendOnceAsync(method, path, body);
                }
                catch (HttpRequestException) when (attempt < 3)
                {
                    await Task.Delay(200 * attempt);
                    if (method == HttpMethod.Post && path == "resource_providers" && await FindAsync($"resource_providers/{body!["uuid"]}") is { } created)
                    {
                        return created;
                    }

                    if (body?["resource_provider_generation"] is not null)
                    {
                        var uuid = path.Split('/')[1];
                        body["resource_provider_generation"] = (await SendOnceAsync(HttpMethod.Get, $"resource_providers/{uuid}", null))!["generation"]!.GetValue<long>();
                    }
                }
            }
        }

        private async Task<JsonNode?> FindAsync(string path)
        {
            using var response = await _http.GetAsync(path);
            return response.StatusCode == HttpStatusCode.NotFound ? null : JsonNode.Parse(await response.Content.ReadAsStringAsync());
        }

        private async Task<JsonNode?> SendOnceAsync(HttpMethod method, string path, JsonNode? body)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }

            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }

        public async Task<string> CreateProviderAsync(string name)
        {
            var rp = await SendAsync(HttpMethod.Post, "resource_providers", new JsonObject { ["name"] = name, ["uuid"] = Guid.NewGuid().ToString() });
            var uuid = rp!["uuid"]!.GetValue<string>();
            await SendAsync(HttpMethod.Put, $"resource_providers/{uuid}/inventories", new JsonObject
            {
                ["resource_provider_generation"] = rp["generation"]!.GetValue<long>(),
                ["inventories"] = new JsonObject { ["VCPU"] = new JsonObject { ["total"] = 8 }, ["MEMORY_MB"] = new JsonObject { ["total"] = 16384 } },
            });
            return uuid;
        }

        public async Task<List<string>> TraitsAsync(string uuid) =>
            [.. (await SendAsync(HttpMethod.Get, $"resource_providers/{uuid}/traits"))!["traits"]!.AsArray().Select(t => t!.GetValue<string>()).Order(StringComparer.Ordinal)];

        /// <summary>Someone else's traits on a provider (a standard one and a custom one of another team).</summary>
        public async Task AddForeignTraitsAsync(string uuid, params string[] traits)
        {
            foreach (var t in traits.Where(t => t.StartsWith("CUSTOM_", StringComparison.Ordinal)))
            {
                await SendAsync(HttpMethod.Put, "traits/" + t);
            }

            var current = await SendAsync(HttpMethod.Get, $"resource_providers/{uuid}/traits");
            var set = current!["traits"]!.AsArray().Select(t => t!.GetValue<string>()).Concat(traits).Distinct().ToList();
            await SendAsync(HttpMethod.Put, $"resource_providers/{uuid}/traits", new JsonObject
            {
                ["traits"] = new JsonArray([.. set.Select(t => (JsonNode)t)]),
                ["resource_provider_generation"] = current["resource_provider_generation"]!.GetValue<long>(),
            });
        }

        /// <summary>Providers (by uuid) that allocation_candidates offers for VCPU:1 with the required traits.</summary>
        public async Task<HashSet<string>> CandidatesAsync(string required)
        {
            try
            {
                var summaries = await SendAsync(HttpMethod.Get, $"allocation_candidates?resources=VCPU:1&required={required}");
                return [.. summaries!["provider_summaries"]!.AsObject().Select(kv => kv.Key)];
            }
            catch (Xunit.Sdk.XunitException e) when (e.Message.Contains(": 400 ", StringComparison.Ordinal) && e.Message.Contains("No such trait", StringComparison.Ordinal))
            {
                return []; // nobody has created the trait yet
            }
        }

        public void Dispose() => _http.Dispose();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(200);
        }
    }

    [SkippableFact]
    public async Task TrustChanges_TraitsFollow_AllocationCandidatesOnlyTrustedAndForeignTraitsKept()
    {
        var url = PlacementUrl();
        using var admin = new PlacementAdmin(url);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var h = await ServiceHarness.StartAsync("sqlite", o => o with { OpenStackPlacement = url.ToString(), PlacementNoAuthToken = "admin" });
        var names = new[] { $"de-1-{suffix}", $"de-2-{suffix}", $"fr-1-{suffix}" };
        var uuids = new Dictionary<string, string>();
        foreach (var n in names)
        {
            uuids[n] = await admin.CreateProviderAsync(n);
            await admin.AddForeignTraitsAsync(uuids[n], "HW_CPU_X86_AVX2", "CUSTOM_OTHER_TEAM");
            var host = h.AddSoftwareHost(n, s_golden);
            await h.EnrollAsync(host, new Dictionary<string, string> { ["country"] = n.StartsWith("de", StringComparison.Ordinal) ? "DE" : "FR" });
        }

        await AttestationServiceTests.ImportGoldenPoolAsync(h, names[0]);
        foreach (var n in names)
        {
            Assert.Equal("trusted", (await h.AttestAsync(n))["trust"]!.GetValue<string>());
        }

        var ours = uuids.Values.ToHashSet();
        await WaitForAsync(async () => (await admin.CandidatesAsync(PlacementTraits.Trusted)).Intersect(ours).Count() == 3, "three trusted providers");
        var de = await admin.CandidatesAsync("CUSTOM_TRUSTPOOL_TAG_COUNTRY_DE");
        Assert.Equal(new[] { uuids[names[0]], uuids[names[1]] }.Order(), de.Intersect(ours).Order());
        Assert.Contains("CUSTOM_TRUSTPOOL_POOL_GOLDEN", await admin.TraitsAsync(uuids[names[2]]));

        // Tamper de-2: within one sync its provider loses every TrustPool trait, and only those.
        ServiceHarness.Reboot(h.Hosts[names[1]], s_golden with { FirmwareVolume = "implant"u8.ToArray() });
        Assert.Equal("untrusted", (await h.AttestAsync(names[1]))["trust"]!.GetValue<string>());
        await WaitForAsync(async () => !(await admin.CandidatesAsync(PlacementTraits.Trusted)).Contains(uuids[names[1]]), "de-2 to lose CUSTOM_TRUSTPOOL_TRUSTED");
        Assert.Equal(new[] { uuids[names[0]], uuids[names[2]] }.Order(), (await admin.CandidatesAsync(PlacementTraits.Trusted)).Intersect(ours).Order());
        Assert.Equal(["CUSTOM_OTHER_TEAM", "HW_CPU_X86_AVX2"], await admin.TraitsAsync(uuids[names[1]]));
        foreach (var n in new[] { names[0], names[2] })
        {
            var traits = await admin.TraitsAsync(uuids[n]);
            Assert.Contains("CUSTOM_OTHER_TEAM", traits);
            Assert.Contains("HW_CPU_X86_AVX2", traits);
        }
    }

    /// <summary>
    /// Issue 13, hole 3: a removed host is unknown at once on Placement too. Its provider loses every TrustPool trait
    /// (only those) within one sync; the name enrolled again with another TPM gets none until that TPM's own first
    /// trusted report, though the old enrollment's trusted report is still within its validTo.
    /// </summary>
    [SkippableFact]
    public async Task RemovedHost_TraitsGoAtOnce_ReAddedNameUntrustedUntilItsOwnReport()
    {
        var url = PlacementUrl();
        using var admin = new PlacementAdmin(url);
        var name = "removed-" + Guid.NewGuid().ToString("N")[..8];
        var uuid = await admin.CreateProviderAsync(name);
        await admin.AddForeignTraitsAsync(uuid, "HW_CPU_X86_AVX2", "CUSTOM_OTHER_TEAM");
        await using var h = await ServiceHarness.StartAsync("sqlite", o => o with { OpenStackPlacement = url.ToString(), PlacementNoAuthToken = "admin" });
        var first = h.AddSoftwareHost(name, s_golden);
        await h.EnrollAsync(first, new Dictionary<string, string> { ["country"] = "DE" });
        await AttestationServiceTests.ImportGoldenPoolAsync(h, name);
        Assert.Equal("trusted", (await h.AttestAsync(name))["trust"]!.GetValue<string>());
        await WaitForAsync(async () => (await admin.TraitsAsync(uuid)).Contains(PlacementTraits.Trusted), "the trusted trait");
        Assert.Contains("CUSTOM_TRUSTPOOL_TAG_COUNTRY_DE", await admin.TraitsAsync(uuid));

        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, $"/v1/hosts/{name}")).Status);
        var removedAt = DateTime.UtcNow;
        await WaitForAsync(async () => !(await admin.TraitsAsync(uuid)).Any(PlacementTraits.IsOurs), "the removed host's provider to lose every TrustPool trait");
        Assert.True(DateTime.UtcNow - removedAt < TimeSpan.FromSeconds(10), "the traits went only after " + (DateTime.UtcNow - removedAt));
        Assert.Equal(["CUSTOM_OTHER_TEAM", "HW_CPU_X86_AVX2"], await admin.TraitsAsync(uuid));
        Assert.DoesNotContain(uuid, await admin.CandidatesAsync(PlacementTraits.Trusted));

        // The same name on another software TPM. Its enrollment is synced at once (nothing ours is pending after it):
        // still no TrustPool trait, though the previous enrollment's trusted report has not expired.
        var second = h.AddSoftwareHost(name + "-new-tpm", s_golden);
        var placement = h.Server.Context.Placement!;
        var synced = placement.Status.Syncs;
        var (status, enrolled) = await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = name, ["agentUrl"] = second.AgentUrl.ToString(), ["agentCertFingerprint"] = second.Fingerprint, ["tags"] = new JsonObject { ["country"] = "DE" },
        });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {enrolled?.ToJsonString()}");
        await WaitForAsync(() => Task.FromResult(placement.Status.Syncs > synced && placement.Status.Pending == 0), "the re-added host's sync");
        Assert.Equal(["CUSTOM_OTHER_TEAM", "HW_CPU_X86_AVX2"], await admin.TraitsAsync(uuid));
        Assert.Equal(["CUSTOM_OTHER_TEAM", "HW_CPU_X86_AVX2"], await placement.SyncHostAsync(name, CancellationToken.None));

        // Its own first trusted report brings the traits back.
        Assert.Equal("trusted", (await h.AttestAsync(name))["trust"]!.GetValue<string>());
        await WaitForAsync(async () => (await admin.TraitsAsync(uuid)).Contains(PlacementTraits.Trusted), "the trusted trait after the new TPM's own report");
        var traits = await admin.TraitsAsync(uuid);
        Assert.Contains("CUSTOM_TRUSTPOOL_TAG_COUNTRY_DE", traits);
        Assert.Contains("CUSTOM_OTHER_TEAM", traits);
        Assert.Contains("HW_CPU_X86_AVX2", traits);
    }

    [SkippableFact]
    public async Task GenerationConflict_SomeoneWritesBetweenReadAndWrite_RetriedAndTheirTraitKept()
    {
        var url = PlacementUrl();
        using var admin = new PlacementAdmin(url);
        var name = "conflict-" + Guid.NewGuid().ToString("N")[..8];
        var uuid = await admin.CreateProviderAsync(name);
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var host = h.AddSoftwareHost(name, s_golden);
        await h.EnrollAsync(host);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, name);
        Assert.Equal("trusted", (await h.AttestAsync(name))["trust"]!.GetValue<string>());

        // The first traits PUT is preceded by another writer's change: Placement answers 409 to ours.
        var interfering = new InterferingHandler(async () => await admin.AddForeignTraitsAsync(uuid, "CUSTOM_WRITTEN_MEANWHILE"));
        using var client = new PlacementClient(url, _ => Task.FromResult("admin"), interfering);
        await using var sync = new PlacementSync(client, h.Server.Context.Store, TimeProvider.System, NullLogger.Instance);
        var traits = await sync.SyncHostAsync(name, CancellationToken.None);
        Assert.Equal(1, interfering.Interfered);
        Assert.NotNull(traits);
        var now = await admin.TraitsAsync(uuid);
        Assert.Contains("CUSTOM_WRITTEN_MEANWHILE", now);
        Assert.Contains(PlacementTraits.Trusted, now);
    }

    [SkippableFact]
    public async Task PlacementDown_AttestationUnaffected_ReadyzReportsIt()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite", o => o with { OpenStackPlacement = "http://127.0.0.1:9/", PlacementNoAuthToken = "admin" });
        var host = h.AddSoftwareHost("lonely", s_golden);
        await h.EnrollAsync(host);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "lonely");
        Assert.Equal("trusted", (await h.AttestAsync("lonely"))["trust"]!.GetValue<string>());
        await WaitForAsync(async () => (await h.OkAsync(HttpMethod.Get, "/readyz"))["placement"]?["lastError"] is not null, "readyz to report the Placement failure");
        var ready = await h.OkAsync(HttpMethod.Get, "/readyz");
        Assert.Equal("ready", ready["status"]!.GetValue<string>());
        Assert.False(ready["placement"]!["reachable"]!.GetValue<bool>());
    }

    private sealed class InterferingHandler(Func<Task> interfere) : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Interfered { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Put && request.RequestUri!.AbsolutePath.EndsWith("/traits", StringComparison.Ordinal) && Interfered == 0)
            {
                Interfered++;
                await interfere();
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
