using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using TrustPool.Server.Auth;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>Issue 5: every endpoint rejects missing or invalid tokens (401) and tokens whose role is too low (403).</summary>
[Trait("Category", "Integration")]
public sealed class AuthorizationTests
{
    [SkippableFact]
    public async Task EveryProtectedEndpoint_MissingInvalidOrLowRoleToken_401Or403()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var reader = (await h.OkAsync(HttpMethod.Post, "/v1/tokens", new JsonObject { ["role"] = "reader" }))["token"]!.GetValue<string>();
        var operatorToken = (await h.OkAsync(HttpMethod.Post, "/v1/tokens", new JsonObject { ["role"] = "operator" }))["token"]!.GetValue<string>();
        using var none = h.NewClient(null);
        using var wrong = h.NewClient("tp_" + new string('A', 43));
        using var readerClient = h.NewClient(reader);
        using var operatorClient = h.NewClient(operatorToken);

        var protectedEndpoints = h.Server.Endpoints
            .Select(e => (Endpoint: e, Role: e.Metadata.GetMetadata<RequiredRole>()?.Role))
            .Where(x => x.Role is not null)
            .ToList();
        Assert.True(protectedEndpoints.Count >= 25, $"only {protectedEndpoints.Count} protected endpoints found");
        foreach (var (endpoint, role) in protectedEndpoints)
        {
            var method = new HttpMethod(endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods[0]);
            var path = "/" + endpoint.RoutePattern.RawText!.TrimStart('/').Replace("{name}", "x").Replace("{id}", "x");
            var body = method == HttpMethod.Get || method == HttpMethod.Delete ? null : new JsonObject();
            Assert.Equal(HttpStatusCode.Unauthorized, (await h.SendAsync(method, path, body, none)).Item1);
            Assert.Equal(HttpStatusCode.Unauthorized, (await h.SendAsync(method, path, body, wrong)).Item1);
            if (role > Role.Reader)
            {
                var (status, problem) = await h.SendAsync(method, path, body, readerClient);
                Assert.True(status == HttpStatusCode.Forbidden, $"{method} {path} with a reader token: {(int)status} {problem?.ToJsonString()}");
            }

            if (role > Role.Operator)
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await h.SendAsync(method, path, body, operatorClient)).Item1);
            }
        }

        // The public exceptions: health, readiness, metrics, OpenAPI and the report-signing public key.
        foreach (var open in new[] { "/healthz", "/readyz", "/metrics", "/openapi/v1.json", "/v1/keys" })
        {
            Assert.Equal(HttpStatusCode.OK, (await h.SendAsync(HttpMethod.Get, open, null, none)).Item1);
        }
    }

    [SkippableFact]
    public async Task RevokedToken_Refused()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var created = await h.OkAsync(HttpMethod.Post, "/v1/tokens", new JsonObject { ["role"] = "reader" });
        using var client = h.NewClient(created["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await h.SendAsync(HttpMethod.Get, "/v1/hosts", null, client)).Item1);
        Assert.Equal(HttpStatusCode.NoContent, (await h.SendAsync(HttpMethod.Delete, $"/v1/tokens/{created["id"]!.GetValue<string>()}")).Item1);
        Assert.Equal(HttpStatusCode.Unauthorized, (await h.SendAsync(HttpMethod.Get, "/v1/hosts", null, client)).Item1);
    }

    [SkippableFact]
    public async Task Requests_BadInputOrUnreachableAgent_ProblemNamingTheField()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var cases = new (HttpMethod Method, string Path, string Body, HttpStatusCode Expected, string? Field)[]
        {
            (HttpMethod.Post, "/v1/hosts", "{", HttpStatusCode.BadRequest, "body"),
            (HttpMethod.Post, "/v1/hosts", "[]", HttpStatusCode.BadRequest, "body"),
            (HttpMethod.Post, "/v1/hosts", "{\"name\":\"a b\",\"agentUrl\":\"https://127.0.0.1:1/\"}", HttpStatusCode.BadRequest, "name"),
            (HttpMethod.Post, "/v1/hosts", "{\"name\":\"a\",\"agentUrl\":\"http://127.0.0.1:1/\"}", HttpStatusCode.BadRequest, "agentUrl"),
            (HttpMethod.Post, "/v1/hosts", "{\"name\":\"a\",\"agentUrl\":\"https://127.0.0.1:1/\",\"agentCertFingerprint\":\"zz\"}", HttpStatusCode.BadRequest, "agentCertFingerprint"),
            (HttpMethod.Post, "/v1/hosts", "{\"name\":5}", HttpStatusCode.BadRequest, "name"),
            (HttpMethod.Post, "/v1/hosts", "{\"name\":\"a\",\"agentUrl\":\"https://127.0.0.1:1/\",\"agentCertFingerprint\":\"" + new string('a', 64) + "\"}", HttpStatusCode.BadGateway, null),
            (HttpMethod.Post, "/v1/pools", "{\"name\":\"p\",\"require\":{\"platform\":[\"nope\"]}}", HttpStatusCode.UnprocessableEntity, "require.platform"),
            (HttpMethod.Post, "/v1/pools", "{\"name\":\"p\",\"require\":7}", HttpStatusCode.BadRequest, null),
            (HttpMethod.Post, "/v1/baselines", "{\"name\":\"b\",\"kind\":\"firmware\"}", HttpStatusCode.BadRequest, null),
            (HttpMethod.Post, "/v1/baselines/import", "{\"fromHost\":\"nope\",\"kinds\":[\"platform\"],\"name\":\"b\"}", HttpStatusCode.NotFound, null),
            (HttpMethod.Post, "/v1/baselines/import", "{\"fromHost\":\"h\",\"kinds\":[\"bios\"],\"name\":\"b\"}", HttpStatusCode.BadRequest, "kinds"),
            (HttpMethod.Post, "/v1/tokens", "{\"role\":\"root\"}", HttpStatusCode.BadRequest, "role"),
            (HttpMethod.Get, "/v1/hosts/nope", "", HttpStatusCode.NotFound, null),
            (HttpMethod.Get, "/v1/hosts/nope/reports?limit=0", "", HttpStatusCode.BadRequest, "limit"),
            (HttpMethod.Post, "/OpenAttestationWebServices/V1.0/PollHosts", "{\"hosts\":5}", HttpStatusCode.BadRequest, "hosts"),
            (HttpMethod.Get, "/v1/nothing-here", "", HttpStatusCode.NotFound, null),
        };
        foreach (var (method, path, body, expected, field) in cases)
        {
            using var request = new HttpRequestMessage(method, path);
            if (path.Contains("PollHosts", StringComparison.Ordinal))
            {
                request.Headers.Add("x-auth-blob", h.AdminToken);
            }

            if (body.Length > 0)
            {
                request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            }

            using var response = await h.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{method} {path} {body}: {(int)response.StatusCode} {text}");
            var problem = JsonNode.Parse(text)!;
            Assert.StartsWith("urn:trustpool:service:", problem["type"]!.GetValue<string>(), StringComparison.Ordinal);
            if (field is not null)
            {
                Assert.Equal(field, problem["field"]?.GetValue<string>());
            }
        }
    }
}
