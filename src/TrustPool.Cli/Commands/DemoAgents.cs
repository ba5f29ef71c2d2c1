using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Structures;

namespace TrustPool.Cli.Commands;

/// <summary>
/// The demo's agents: every simulated host is a real TrustPool agent (its own software TPM and boot log) behind
/// one HTTPS listener on 127.0.0.1 with a path base per host, and the demo talks to them as the service does:
/// mutual TLS with a client certificate from a throw-away demo CA, the agent's TLS certificate pinned.
/// </summary>
internal sealed class DemoAgents : IAsyncDisposable
{
    private readonly AgentHost _host;
    private readonly X509Certificate2 _clientCertificate;
    private readonly string _directory;
    private readonly HttpClient _http;

    private DemoAgents(AgentHost host, X509Certificate2 clientCertificate, string directory)
    {
        _host = host;
        _clientCertificate = clientCertificate;
        _directory = directory;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [clientCertificate],
                // Pin the agent's self-signed certificate by its SHA-256 fingerprint (as enrollment will).
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    cert is not null && CryptographicOperations.FixedTimeEquals(
                        SHA256.HashData(cert.GetRawCertData()), Convert.FromHexString(host.TlsFingerprint)),
            },
        };
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress => _host.Addresses[0];

    public static async Task<DemoAgents> StartAsync(string directory)
    {
        var (caPem, client) = CreateServicePki();
        var caFile = Path.Combine(directory, "service-ca.pem");
        await File.WriteAllTextAsync(caFile, caPem);
        var options = new AgentOptions { Urls = "https://127.0.0.1:0", ServiceCa = caFile, DataDirectory = Path.Combine(directory, "agent") };
        var host = await AgentHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Error));
        return new DemoAgents(host, client, directory);
    }

    /// <summary>Registers a host's agent at /agents/NAME/ serving its TPM and the UEFI log file the host wrote.</summary>
    public Uri Add(string name, ITpm tpm, string uefiLogFile)
    {
        var pathBase = $"/agents/{name}/";
        _host.AddAgent(pathBase, tpm, name, new AgentOptions { UefiLog = uefiLogFile, DataDirectory = Path.Combine(_directory, "agent") });
        return new Uri(BaseAddress, pathBase);
    }

    public async Task<JsonElement> GetAsync(Uri agent, string path)
    {
        using var r = await _http.GetAsync(new Uri(agent, path));
        return await ReadAsync(r, path);
    }

    public async Task<JsonElement> PostAsync(Uri agent, string path, object body)
    {
        using var r = await _http.PostAsJsonAsync(new Uri(agent, path), body);
        return await ReadAsync(r, path);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage r, string path)
    {
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"agent {path}: {(int)r.StatusCode} {text}");
        }

        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>A quote of <paramref name="selection"/> with a fresh nonce: the attestation bytes, the PCRs and the UEFI log, all unverified.</summary>
    public async Task<(byte[] Attest, byte[] Signature, PcrValues Pcrs, byte[]? UefiLog)> QuoteAsync(Uri agent, byte[] nonce, PcrSelection selection)
    {
        var request = new Dictionary<string, object>
        {
            ["nonce"] = Convert.ToBase64String(nonce),
            ["selection"] = selection.ToDictionary(b => TpmHash.Name(b.Hash), b => b.Indices.ToArray()),
        };
        var q = await PostAsync(agent, "v1/quote", request);
        var pcrs = new PcrValues();
        foreach (var bank in q.GetProperty("pcrs").EnumerateObject())
        {
            if (!TpmHash.TryParseName(bank.Name, out var alg))
            {
                continue;
            }

            foreach (var pcr in bank.Value.EnumerateObject())
            {
                pcrs.Set(alg, int.Parse(pcr.Name, System.Globalization.CultureInfo.InvariantCulture), Convert.FromHexString(pcr.Value.GetString()!));
            }
        }

        var log = q.TryGetProperty("uefiLog", out var l) ? l.GetBytesFromBase64() : null;
        return (q.GetProperty("quote").GetBytesFromBase64(), q.GetProperty("signature").GetBytesFromBase64(), pcrs, log);
    }

    /// <summary>A demo service CA and the client certificate it issues (ECDSA P-256, valid for an hour).</summary>
    private static (string CaPem, X509Certificate2 Client) CreateServicePki()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=TrustPool demo service CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=trustpool-demo-service", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        clientRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F; // a positive INTEGER
        using var issued = clientRequest.Create(ca, now.AddMinutes(-5), now.AddHours(1), serial);
        using var withKey = issued.CopyWithPrivateKey(clientKey);

        // SslStream on Linux wants a client certificate whose key came from a PKCS#12 load.
        return (ca.ExportCertificatePem(), X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null));
    }

    /// <summary>Stops the agents and removes the demo's directory (CA, logs, agent data).</summary>
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        _clientCertificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
