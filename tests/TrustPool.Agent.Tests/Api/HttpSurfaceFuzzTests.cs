using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Agent.Api;
using TrustPool.Agent.Tests.Support;
using TrustPool.Tpm.Software;

namespace TrustPool.Agent.Tests.Api;

/// <summary>
/// Property test of the HTTP surface (seeded, bounded in time): random JSON, wrong types, huge values, bad base64,
/// random methods and paths never get a 5xx other than the documented TPM-failure/TPM-busy 503, always get JSON, and the
/// agent keeps answering afterwards.
/// </summary>
public sealed class HttpSurfaceFuzzTests
{
    private static readonly string[] s_paths = ["v1/quote", "v1/activate-credential", "v1/identity", "v1/health", "v1/", "v1/quote/x", "", "v1/QUOTE", "../v1/quote", "v1/quote?x=1", "%00", "v1/%2e%2e/quote"];
    private static readonly string[] s_fields = ["nonce", "selection", "imaOffset", "credentialBlob", "encryptedSecret", "x", ""];
    private static readonly string[] s_banks = ["sha1", "sha256", "sha384", "sha512", "sm3_256", "SHA256", "md5", "", "sha256\u0000"];

    [Fact]
    public async Task RandomRequests_NeverUndocumented5xx()
    {
        var seed = 20261127;
        var random = new Random(seed);
        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory());
        using var client = agent.Client(maxConnections: 8);

        // Kestrel closes a connection after refusing an oversized body (it will not drain more than the limit); those
        // requests get their own client so a closing connection is never picked from the shared pool.
        using var oversized = agent.Client(maxConnections: 8);
        var budget = Stopwatch.StartNew();
        var n = 0;
        var byStatus = new Dictionary<int, int>();
        while (budget.Elapsed < TimeSpan.FromSeconds(12))
        {
            var tasks = Enumerable.Range(0, 8).Select(_ => OneAsync(client, oversized, random.Next())).ToArray();
            foreach (var (status, detail) in await Task.WhenAll(tasks))
            {
                n++;
                byStatus[status] = byStatus.GetValueOrDefault(status) + 1;
                Assert.True(status < 500 || status == 503, $"seed {seed}, request {n}: {status} {detail}");
            }
        }

        // Still healthy and still correct.
        var identity = await AgentChecks.EnrollAsync(client);
        await AgentChecks.QuoteAndVerifyAsync(client, identity);
        Assert.True(n > 100, $"only {n} requests");
    }

    private static async Task<(int Status, string Detail)> OneAsync(AgentClient shared, AgentClient oversized, int seed)
    {
        var r = new Random(seed);
        var path = s_paths[r.Next(s_paths.Length)];
        var method = r.Next(6) switch { 0 => HttpMethod.Get, 1 => HttpMethod.Put, 2 => HttpMethod.Delete, _ => HttpMethod.Post };
        var body = RandomBody(r);
        using var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Get || r.Next(4) == 0)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", r.Next(5) == 0 ? "text/plain" : "application/json");
        }

        var client = body.Length > AgentDefaults.MaxRequestBodyBytes / 2 ? oversized : shared;
        HttpResponseMessage sent;
        try
        {
            sent = await client.Http.SendAsync(request);
        }
        catch (HttpRequestException) when (client == oversized)
        {
            // Kestrel answered (413, or 404 without reading the body) and closed the connection while the client was
            // still sending a large body: a refusal at the connection level, not a server fault.
            return (413, "large body, connection closed");
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"{method} {path} ({body.Length} bytes) {Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)])}", e);
        }

        using var response = sent;
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        // Kestrel refuses malformed request lines (e.g. an encoded NUL in the path) with an empty 400 before the app runs.
        var kestrelRefusal = status == 400 && text.Length == 0;
        if (status >= 400 && !kestrelRefusal)
        {
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{status} for {method} {path}: '{text}'");
            var type = JsonNode.Parse(text)!["type"]!.GetValue<string>();
            Assert.StartsWith(AgentProblem.TypePrefix, type);
            if (status == 503)
            {
                Assert.True(type is AgentProblem.TpmFailure or AgentProblem.TpmBusy, type);
                Assert.NotNull(response.Headers.RetryAfter);
            }
        }

        return (status, $"{method} {path} {Encoding.UTF8.GetString(body[..Math.Min(body.Length, 300)])} -> {text}");
    }

    private static byte[] RandomBody(Random r)
    {
        switch (r.Next(10))
        {
            case 0:
                var raw = new byte[r.Next(0, 2048)];
                r.NextBytes(raw);
                return raw;
            case 1:
                return Encoding.UTF8.GetBytes(new string('[', r.Next(1, 5000)));
            case 2:
                return Encoding.UTF8.GetBytes("{\"nonce\":\"" + new string('A', r.Next(60_000, 80_000)) + "\"}");
            default:
                var o = new JsonObject();
                var fields = r.Next(0, 5);
                if (r.Next(3) > 0)
                {
                    o["nonce"] = RandomBase64ish(r);
                }

                if (r.Next(3) > 0)
                {
                    var sel = new JsonObject();
                    for (var i = r.Next(0, 3); i > 0; i--)
                    {
                        sel[s_banks[r.Next(s_banks.Length)]] = RandomPcrs(r);
                    }

                    o["selection"] = r.Next(8) == 0 ? RandomValue(r, 0) : sel;
                }

                for (var i = 0; i < fields; i++)
                {
                    o[s_fields[r.Next(s_fields.Length)]] = RandomValue(r, 0);
                }

                return Encoding.UTF8.GetBytes(o.ToJsonString());
        }
    }

    private static JsonNode? RandomPcrs(Random r)
    {
        if (r.Next(6) == 0)
        {
            return RandomValue(r, 0);
        }

        var a = new JsonArray();
        for (var i = r.Next(0, 30); i > 0; i--)
        {
            a.Add(r.Next(10) switch { 0 => JsonValue.Create(r.Next(-5, 40)), 1 => JsonValue.Create(long.MaxValue), 2 => JsonValue.Create(1.5), 3 => JsonValue.Create("3"), _ => JsonValue.Create(r.Next(0, 24)) });
        }

        return a;
    }

    private static JsonNode? RandomBase64ish(Random r)
    {
        var bytes = new byte[r.Next(0, 100)];
        r.NextBytes(bytes);
        var s = Convert.ToBase64String(bytes);
        return r.Next(5) switch
        {
            0 => JsonValue.Create(s + "="),
            1 => JsonValue.Create(s.Replace('A', '*')),
            2 => RandomValue(r, 0),
            _ => JsonValue.Create(s),
        };
    }

    private static JsonNode? RandomValue(Random r, int depth) => r.Next(depth > 3 ? 5 : 8) switch
    {
        0 => null,
        1 => JsonValue.Create(r.Next(2) == 0),
        2 => JsonValue.Create(r.NextDouble() * Math.Pow(10, r.Next(-300, 300))),
        3 => JsonValue.Create(new string((char)r.Next(32, 0x2FFF), r.Next(0, 500))),
        4 => JsonValue.Create(r.NextInt64(long.MinValue, long.MaxValue)),
        5 => new JsonArray(Enumerable.Range(0, r.Next(0, 4)).Select(_ => RandomValue(r, depth + 1)).ToArray()),
        _ => new JsonObject(Enumerable.Range(0, r.Next(0, 4)).Select(i => KeyValuePair.Create("k" + i, RandomValue(r, depth + 1)))),
    };
}
