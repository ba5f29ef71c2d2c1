using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Auth;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 14, item 1, through the real service over HTTPS and real agents (SQLite): a reader request never writes to the
/// audit log. Every GET route in the routing table, and the POST routes that are reads (report verification, the
/// OpenAttestation PollHosts), leave the log's size as it was, with an evacuation plan that has items.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReadRoutesTests
{
    private static readonly SimulatedBoot s_golden = new();

    private static async Task<long> AuditSizeAsync(ServiceHarness h) =>
        (await h.OkAsync(HttpMethod.Get, "/v1/audit/entries?from=0"))["size"]!.GetValue<long>();

    [SkippableFact]
    public async Task EveryReadRoute_WithReaderToken_AppendsNoAuditRecord()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        foreach (var name in new[] { "rd-1", "rd-2" })
        {
            await h.EnrollAsync(h.AddSoftwareHost(name, s_golden));
            await h.OkAsync(HttpMethod.Put, $"/v1/hosts/{name}/inventory", new JsonObject { ["vcpus"] = 8, ["memoryMb"] = 16384, ["diskGb"] = 200 });
        }

        await AttestationServiceTests.ImportGoldenPoolAsync(h, "rd-1");
        var trusted = await h.AttestAsync("rd-1");
        Assert.Equal("trusted", trusted["trust"]!.GetValue<string>());
        Assert.Equal("trusted", (await h.AttestAsync("rd-2"))["trust"]!.GetValue<string>());
        var placement = await h.OkAsync(HttpMethod.Post, "/v1/placements", new JsonObject
        {
            ["name"] = "web-1",
            ["resources"] = new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 1024, ["diskGb"] = 10 },
            ["trust"] = "required",
            ["pools"] = new JsonArray("golden"),
        });
        var victim = placement["host"]!.GetValue<string>();
        ServiceHarness.Reboot(h.Hosts[victim], s_golden with { FirmwareVolume = "implant"u8.ToArray() });
        var tampered = await h.AttestAsync(victim);
        Assert.Equal("untrusted", tampered["trust"]!.GetValue<string>());
        Assert.NotEmpty((await h.OkAsync(HttpMethod.Get, "/v1/evacuations"))["items"]!.AsArray());

        var reader = (await h.OkAsync(HttpMethod.Post, "/v1/tokens", new JsonObject { ["role"] = "reader", ["name"] = "reads" }))["token"]!.GetValue<string>();
        using var readerClient = h.NewClient(reader);
        var size = await AuditSizeAsync(h);
        Assert.True(size > 0);

        // Route parameters and the queries some reads require, from the fixture.
        var reportId = tampered["id"]!.GetValue<string>();
        var placementId = placement["id"]!.GetValue<string>();
        string Fill(string route) => (route switch
        {
            _ when route.StartsWith("/v1/hosts/", StringComparison.Ordinal) => route.Replace("{name}", victim),
            _ when route.StartsWith("/v1/pools/", StringComparison.Ordinal) => route.Replace("{name}", "golden"),
            _ when route.StartsWith("/v1/baselines/", StringComparison.Ordinal) => route.Replace("{name}", "golden-platform"),
            _ when route.StartsWith("/v1/reports/", StringComparison.Ordinal) => route.Replace("{id}", reportId),
            _ when route.StartsWith("/v1/placements/", StringComparison.Ordinal) => route.Replace("{id}", placementId),
            _ => route,
        }) + route switch
        {
            "/v1/audit/proof/inclusion" => $"?leaf=0&size={size}",
            "/v1/audit/proof/consistency" => $"?from=1&to={size}",
            "/v1/audit/compliance" => "?workload=web-1",
            _ => "",
        };

        var gets = h.Server.Endpoints
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("GET") == true)
            .Select(e => (Route: "/" + e.RoutePattern.RawText!.TrimStart('/'), Role: e.Metadata.GetMetadata<RequiredRole>()?.Role))
            .ToList();
        Assert.True(gets.Count >= 20, $"only {gets.Count} GET routes found");
        Assert.Contains(gets, g => g.Route == "/v1/evacuations");
        var answered = new List<string>();
        var notFound = new List<string>();
        var grew = new List<string>();
        var last = size;
        void Grew(string request, long now)
        {
            if (now != last)
            {
                grew.Add($"{request} (+{now - last})");
                last = now;
            }
        }

        foreach (var (route, role) in gets)
        {
            var path = Fill(route);
            var (status, body) = await h.SendAsync(HttpMethod.Get, path, null, readerClient);
            if (role > Role.Reader)
            {
                // An admin read refuses the reader; as the admin it is still a read.
                Assert.True(status == HttpStatusCode.Forbidden, $"GET {path} with a reader token: {(int)status} {body?.ToJsonString()}");
                (status, body) = await h.SendAsync(HttpMethod.Get, path);
            }

            if (status == HttpStatusCode.NotFound && path.Contains('{', StringComparison.Ordinal))
            {
                notFound.Add(path);
                continue;
            }

            Assert.True(status == HttpStatusCode.OK, $"GET {path}: {(int)status} {body?.ToJsonString()}");
            answered.Add(path);
            Grew(path, await AuditSizeAsync(h));
        }

        Assert.True(notFound.Count * 10 <= gets.Count, $"{notFound.Count} of {gets.Count} routes could not be filled: {string.Join(", ", notFound)}");

        // The POST routes that are reads: report verification and the OpenAttestation trust query, both prefixes.
        var (verified, verification) = await h.SendAsync(HttpMethod.Post, "/v1/reports/verify", new JsonObject { ["jws"] = trusted["jws"]!.GetValue<string>() }, readerClient);
        Assert.True(verified == HttpStatusCode.OK, $"{(int)verified} {verification?.ToJsonString()}");
        Grew("POST /v1/reports/verify", await AuditSizeAsync(h));
        using var nova = h.NewClient(null);
        nova.DefaultRequestHeaders.Add("x-auth-blob", reader);
        foreach (var prefix in TrustPool.Server.Compat.PollHostsEndpoint.Prefixes)
        {
            var (polled, poll) = await h.SendAsync(HttpMethod.Post, prefix + "/PollHosts", new JsonObject { ["count"] = 2, ["hosts"] = new JsonArray("rd-1", "rd-2") }, nova);
            Assert.True(polled == HttpStatusCode.OK, $"{prefix}: {(int)polled} {poll?.ToJsonString()}");
            Grew($"POST {prefix}/PollHosts", await AuditSizeAsync(h));
        }

        Assert.True(grew.Count == 0, $"reads appended audit records: {string.Join(", ", grew)}");
        Assert.Equal(size, await AuditSizeAsync(h));
        Assert.True(answered.Count >= 20, $"only {answered.Count} reads answered 200: {string.Join(", ", answered)}");
    }
}
