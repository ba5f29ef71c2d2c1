using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Evidence.Uefi;
using TrustPool.Server;
using TrustPool.Server.Hosting;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>A simulated or swtpm host: its TPM (host side only) and the log file its agent serves.</summary>
public sealed class TestHost
{
    public required string Name { get; init; }

    public required Uri AgentUrl { get; init; }

    public required ITpm Tpm { get; init; }

    public required string LogFile { get; init; }

    public required string Fingerprint { get; init; }
}

/// <summary>
/// The real thing on loopback: the attestation service (SQLite or PostgreSQL), one agent listener with mutual TLS
/// against the service CA serving several hosts by path base (software TPMs with EK certificates from a test
/// vendor CA, and optionally a swtpm whose EK certificate comes from swtpm's local CA), and an HTTPS admin client.
/// </summary>
public sealed class ServiceHarness : IAsyncDisposable
{
    private readonly List<ITpm> _tpms = [];
    private readonly List<SwtpmInstance> _swtpms = [];
    private ECDsa _vendorKey = null!;
    private X509Certificate2 _vendorCa = null!;

    public required DirectoryInfo Dir { get; init; }

    public required string Database { get; init; }

    public ServerHost Server { get; private set; } = null!;

    public AgentHost Agents { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    public ServerOptions Options { get; private set; } = null!;

    /// <summary>Every host added, by name.</summary>
    public Dictionary<string, TestHost> Hosts { get; } = new(StringComparer.Ordinal);

    public static async Task<ServiceHarness> StartAsync(string provider, Func<ServerOptions, ServerOptions>? configure = null, TimeProvider? time = null)
    {
        var dir = TestTemp.CreateDirectory("tp-server-");
        var database = provider switch
        {
            "sqlite" => "sqlite:trustpool.db",
            "postgres" => "postgres:" + await PostgresSchema.CreateAsync(),
            _ => throw new ArgumentException(provider, nameof(provider)),
        };
        var h = new ServiceHarness { Dir = dir, Database = database };
        h.CreateVendorCa();
        await h.StartServerAsync(configure, time);
        h.Agents = await AgentHost.StartAsync(new AgentOptions
        {
            Urls = "https://127.0.0.1:0",
            ServiceCa = h.Server.CaCertificatePath,
            DataDirectory = Path.Combine(dir.FullName, "agents"),
        }, b => b.SetMinimumLevel(LogLevel.Warning));
        return h;
    }

    public async Task StartServerAsync(Func<ServerOptions, ServerOptions>? configure = null, TimeProvider? time = null)
    {
        var ekCa = Directory.CreateDirectory(Path.Combine(Dir.FullName, "ek-ca")).FullName;
        var options = new ServerOptions
        {
            Urls = "https://127.0.0.1:0",
            DataDirectory = Path.Combine(Dir.FullName, "server"),
            Database = Database,
            EkCaDirectory = ekCa,
            IntervalSeconds = 0,
            RequestTimeoutSeconds = 20,
            Retries = 0,
        };
        Options = configure?.Invoke(options) ?? options;
        Server = await ServerHost.StartAsync(Options, b => b.SetMinimumLevel(LogLevel.Warning), time);
        AdminToken = (await File.ReadAllTextAsync(Server.AdminTokenPath)).Trim();
        Http?.Dispose();
        Http = NewClient(AdminToken);
    }

    public async Task RestartServerAsync()
    {
        await Server.DisposeAsync();
        var port = Server.Addresses[0].Port;
        await StartServerAsync(o => Options with { Urls = $"https://127.0.0.1:{port}" });
    }

    /// <summary>An HTTPS client that trusts only the service CA, with <paramref name="token"/> as bearer (none when null).</summary>
    public HttpClient NewClient(string? token) => ServiceHttp.Create(Server.Addresses[0], Server.CaCertificatePath, token);

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await (client ?? Http).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true;
        return (response.StatusCode, text.Length == 0 || !json ? null : JsonNode.Parse(text));
    }

    /// <summary>The JSON of a request that must succeed; the problem document in the failure message otherwise.</summary>
    public async Task<JsonNode> OkAsync(HttpMethod method, string path, JsonNode? body = null)
    {
        var (status, json) = await SendAsync(method, path, body);
        Assert.True((int)status is >= 200 and < 300, $"{method} {path}: {(int)status} {json?.ToJsonString()}");
        return json ?? new JsonObject();
    }

    /// <summary>A host with a software TPM whose EK certificate is signed by the test vendor CA (or none / another CA).</summary>
    public TestHost AddSoftwareHost(string name, SimulatedBoot boot, EkCertificate ekCertificate = EkCertificate.TrustedVendor, TimeProvider? time = null)
    {
        var tpm = SoftwareTpm.CreateInMemory(time);
        if (ekCertificate != EkCertificate.None)
        {
            using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var otherCa = ekCertificate == EkCertificate.UnknownVendor ? SelfSignedCa("CN=Unknown TPM vendor CA", otherKey) : null;
            WriteEkCertificate(tpm, otherCa ?? _vendorCa, otherCa is null ? _vendorKey : otherKey, ekCertificate);
        }

        var log = Path.Combine(Dir.FullName, name + ".binary_bios_measurements");
        Measure(tpm, boot, log);
        return Register(name, tpm, log);
    }

    /// <summary>
    /// A host on a real swtpm (EK certificate from swtpm's local CA, which is added to the EK CA folder) that "boots" by
    /// extending every measured event of a real corpus UEFI log into its PCRs; its agent serves that log in place.
    /// </summary>
    public TestHost AddSwtpmHost(string name, string corpusLog)
    {
        var swtpm = SwtpmInstance.Start();
        _swtpms.Add(swtpm);
        foreach (var pem in new[] { "/var/lib/swtpm-localca/issuercert.pem", "/var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem" })
        {
            File.Copy(pem, Path.Combine(Options.EkCaDirectory!, Path.GetFileName(pem)), overwrite: true);
        }

        var tpm = TpmConnection.Open(swtpm.Backend);
        var parsed = TcgEventLog.Parse(File.ReadAllBytes(corpusLog));
        foreach (var e in parsed.Events)
        {
            if (e.EventType == TcgEventType.NoAction || e.PcrIndex >= 24)
            {
                continue;
            }

            var digests = e.Digests.Where(d => d.Algorithm is TpmAlgorithmId.Sha1 or TpmAlgorithmId.Sha256).Select(d => new TpmtHa(d.Algorithm, d.Value)).ToList();
            tpm.ExtendPcr((int)e.PcrIndex, digests);
        }

        return Register(name, tpm, corpusLog);
    }

    /// <summary>The host reboots into <paramref name="boot"/>: PCRs reset, new measurements, new log.</summary>
    public static void Reboot(TestHost host, SimulatedBoot boot)
    {
        var tpm = (SoftwareTpm)host.Tpm;
        tpm.Reboot();
        Measure(tpm, boot, host.LogFile);
    }

    private TestHost Register(string name, ITpm tpm, string log)
    {
        _tpms.Add(tpm);
        var pathBase = $"/agents/{name}/";
        Agents.AddAgent(pathBase, tpm, name, new AgentOptions { UefiLog = log, DataDirectory = Path.Combine(Dir.FullName, "agents") });
        var host = new TestHost { Name = name, AgentUrl = new Uri(Agents.Addresses[0], pathBase), Tpm = tpm, LogFile = log, Fingerprint = Agents.TlsFingerprint };
        Hosts[name] = host;
        return host;
    }

    public async Task<JsonNode> EnrollAsync(TestHost host, IDictionary<string, string>? tags = null)
    {
        var t = new JsonObject();
        foreach (var (k, v) in tags ?? new Dictionary<string, string>())
        {
            t[k] = v;
        }

        return await OkAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = host.Name, ["agentUrl"] = host.AgentUrl.ToString(), ["agentCertFingerprint"] = host.Fingerprint, ["tags"] = t,
        });
    }

    public async Task<JsonNode> AttestAsync(string host) => await OkAsync(HttpMethod.Post, $"/v1/hosts/{host}/attest");

    private static void Measure(SoftwareTpm tpm, SimulatedBoot boot, string logFile)
    {
        var builder = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), boot);
        foreach (var x in builder.Extends)
        {
            tpm.ExtendPcr((int)x.PcrIndex, [.. x.Digests.Select(d => new TpmtHa(d.Key, d.Value))]);
        }

        File.WriteAllBytes(logFile, builder.ToArray());
    }

    private void CreateVendorCa()
    {
        _vendorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _vendorCa = SelfSignedCa("CN=TrustPool test TPM vendor CA", _vendorKey);
        var ekCa = Directory.CreateDirectory(Path.Combine(Dir.FullName, "ek-ca")).FullName;
        File.WriteAllText(Path.Combine(ekCa, "test-vendor-ca.pem"), _vendorCa.ExportCertificatePem());
    }

    private static X509Certificate2 SelfSignedCa(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
    }

    /// <summary>
    /// TCG EK Credential Profile 2.x, 3.2: the EK certificate in NV 0x01C00002, certifying the RSA EK's public key,
    /// with what swtpm's and Infineon's carry: critical keyUsage keyEncipherment, critical basicConstraints CA=false,
    /// extKeyUsage tcg-kp-EKCertificate and a critical subjectAltName naming the TPM. <paramref name="kind"/> can
    /// break one rule for the tests that must see it refused.
    /// </summary>
    private static void WriteEkCertificate(SoftwareTpm tpm, X509Certificate2 ca, ECDsa caKey, EkCertificate kind)
    {
        var ek = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048);
        tpm.FlushContext(ek.Handle);
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = ek.Public.Rsa!.Modulus, Exponent = [1, 0, 1] });
        var request = new CertificateRequest("CN=TrustPool test EK", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        foreach (var ext in EkCertificateExtensions(kind))
        {
            request.CertificateExtensions.Add(ext);
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var cert = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5), serial);
        var der = cert.RawData;
        tpm.NvDefineSpace(TpmHandle.EkCertificateRsaNvIndex, (ushort)der.Length, TpmNvAttributes.PpWrite | TpmNvAttributes.OwnerWrite);
        tpm.NvWrite(TpmHandle.EkCertificateRsaNvIndex, der);
    }

    /// <summary>The extensions of a profile-conformant RSA EK certificate (or one broken as <paramref name="kind"/> says).</summary>
    public static IEnumerable<X509Extension> EkCertificateExtensions(EkCertificate kind = EkCertificate.TrustedVendor)
    {
        yield return new X509BasicConstraintsExtension(false, false, 0, true);
        yield return new X509KeyUsageExtension(kind == EkCertificate.WrongKeyUsage ? X509KeyUsageFlags.DigitalSignature : X509KeyUsageFlags.KeyEncipherment, true);
        yield return new X509EnhancedKeyUsageExtension([new Oid("2.23.133.8.1")], false);

        // subjectAltName directoryName { tcg-at-tpmManufacturer "id:54504D00", tcg-at-tpmModel, tcg-at-tpmVersion },
        // critical as the profile asks when the subject is empty (swtpm and Infineon mark it critical anyway).
        var tpmName = new X500DistinguishedNameBuilder();
        tpmName.Add("2.23.133.2.1", "id:54504D00", UniversalTagNumber.UTF8String);
        tpmName.Add("2.23.133.2.2", "TrustPool SoftwareTpm", UniversalTagNumber.UTF8String);
        tpmName.Add("2.23.133.2.3", "id:00010000", UniversalTagNumber.UTF8String);
        var san = new AsnWriter(AsnEncodingRules.DER);
        using (san.PushSequence())
        {
            using (san.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true)))
            {
                san.WriteEncodedValue(tpmName.Build().RawData);
            }
        }

        yield return new X509Extension("2.5.29.17", san.Encode(), true);
        if (kind == EkCertificate.UnknownCriticalExtension)
        {
            // A private OID no EK profile defines, marked critical: RFC 5280, 4.2 says refuse.
            yield return new X509Extension("1.3.6.1.4.1.55555.1.1", [0x05, 0x00], true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (Agents is not null)
        {
            await Agents.DisposeAsync();
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        foreach (var s in _swtpms)
        {
            s.Dispose();
        }

        _vendorCa?.Dispose();
        _vendorKey?.Dispose();
        if (Database.StartsWith("postgres:", StringComparison.Ordinal))
        {
            await PostgresSchema.DropAsync(Database["postgres:".Length..]);
        }
    }
}

public enum EkCertificate
{
    TrustedVendor,
    UnknownVendor,
    None,

    /// <summary>From the trusted vendor CA, but its key usage is digitalSignature instead of keyEncipherment.</summary>
    WrongKeyUsage,

    /// <summary>From the trusted vendor CA, with an extra critical extension no EK profile defines.</summary>
    UnknownCriticalExtension,
}
