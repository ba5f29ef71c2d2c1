using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Agent.Tests.Support;

/// <summary>What the attestation service does: HTTPS with a client certificate, the agent's certificate pinned by fingerprint.</summary>
public sealed class AgentClient : IDisposable
{
    private readonly HttpClient _http;

    public AgentClient(Uri baseAddress, X509Certificate2? clientCertificate, string? pinnedFingerprint = null, int maxConnections = 4)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    cert is not null && (pinnedFingerprint is null ||
                                         Convert.ToHexStringLower(SHA256.HashData(cert.GetRawCertData())) == pinnedFingerprint),
            },
        };
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpClient Http => _http;

    public async Task<JsonObject> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json) =>
        _http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public async Task<JsonObject> PostJsonAsync(string path, object body)
    {
        using var response = await _http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The pcrs object of a quote response as PcrValues.</summary>
    public static PcrValues Pcrs(JsonObject quote)
    {
        var values = new PcrValues();
        foreach (var (bank, indices) in quote["pcrs"]!.AsObject())
        {
            Assert.True(TpmHash.TryParseName(bank, out var alg));
            foreach (var (index, hex) in indices!.AsObject())
            {
                values.Set(alg, int.Parse(index, System.Globalization.CultureInfo.InvariantCulture), Convert.FromHexString(hex!.GetValue<string>()));
            }
        }

        return values;
    }

    public static byte[] Bytes(JsonObject o, string name) => Convert.FromBase64String(o[name]!.GetValue<string>());

    public static string Json(object o) => JsonSerializer.Serialize(o);

    public void Dispose() => _http.Dispose();
}
