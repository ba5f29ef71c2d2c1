using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Events;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// What an operator relies on around the API (issue 5, items 6 and 7): Prometheus metrics, the OpenAPI document,
/// signed webhooks on trust changes, and re-enrollment after a host's TPM keys change.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ServiceOperationsTests
{
    private static readonly SimulatedBoot s_golden = new();

    internal static async Task GoldenPoolAsync(ServiceHarness h, string fromHost)
    {
        await h.OkAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject { ["fromHost"] = fromHost, ["kinds"] = new JsonArray("platform", "os"), ["name"] = "gold" });
        await h.OkAsync(HttpMethod.Post, "/v1/pools", new JsonObject
        {
            ["name"] = "gold-pool",
            ["require"] = new JsonObject { ["platform"] = new JsonArray("gold-platform"), ["os"] = new JsonArray("gold-os") },
        });
    }

    [Fact]
    public async Task OpenApi_Document_ListsHostsBaselineImportPoolsAndPollHosts()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        using var anonymous = h.NewClient(null);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;
        Assert.StartsWith("3.", doc["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        var paths = doc["paths"]!.AsObject();
        foreach (var path in new[] { "/v1/hosts", "/v1/hosts/{name}", "/v1/hosts/{name}/attest", "/v1/baselines/import", "/v1/pools", "/v1/pools/{name}",
                                     "/v1/tokens", "/v1/webhooks", "/OpenAttestationWebServices/V1.0/PollHosts", "/AttestationService/resources/PollHosts" })
        {
            Assert.True(paths.ContainsKey(path), $"{path} missing from {string.Join(", ", paths.Select(p => p.Key))}");
        }

        Assert.NotNull(paths["/v1/hosts"]!["post"]);
        Assert.NotNull(paths["/v1/hosts"]!["get"]);
        Assert.Equal("PollHosts", paths["/OpenAttestationWebServices/V1.0/PollHosts"]!["post"]!["operationId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Webhook_HostBecomesTrusted_ReceivesTrustChangedSignedWithHmacOfBody()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        await h.EnrollAsync(h.AddSoftwareHost("sw-1", s_golden));
        await GoldenPoolAsync(h, "sw-1");

        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hooks/");
        listener.Start();
        var created = await h.OkAsync(HttpMethod.Post, "/v1/webhooks", new JsonObject { ["url"] = $"http://127.0.0.1:{port}/hooks/trust" });
        var secret = Convert.FromBase64String(created["secret"]!.GetValue<string>());
        Assert.Equal(32, secret.Length);
        Assert.Equal(["trust.changed"], created["events"]!.AsArray().Select(e => e!.GetValue<string>()));

        var receive = listener.GetContextAsync();
        Assert.Equal("trusted", (await h.AttestAsync("sw-1"))["trust"]!.GetValue<string>());
        var context = await receive.WaitAsync(TimeSpan.FromSeconds(30));
        byte[] body;
        using (var ms = new MemoryStream())
        {
            await context.Request.InputStream.CopyToAsync(ms);
            body = ms.ToArray();
        }

        var signature = context.Request.Headers[TrustEvents.SignatureHeader];
        context.Response.StatusCode = 204;
        context.Response.Close();

        Assert.Equal("POST", context.Request.HttpMethod);
        Assert.Equal("/hooks/trust", context.Request.Url!.AbsolutePath);
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body)), signature);
        var change = JsonNode.Parse(body)!;
        Assert.Equal("trust.changed", change["type"]!.GetValue<string>());
        Assert.Equal("sw-1", change["host"]!.GetValue<string>());
        Assert.Equal("trusted", change["current"]!.GetValue<string>());
        var latest = await h.OkAsync(HttpMethod.Get, "/v1/hosts/sw-1/report");
        Assert.Equal(latest["id"]!.GetValue<string>(), change["reportId"]!.GetValue<string>());
    }

    [Fact]
    public async Task AkChanged_NextAttestation_HostReEnrollmentRequired_EnrollBringsItBack()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite", o => o with { Retries = 1 });
        var agentDir = Path.Combine(h.Dir.FullName, "own-agent");
        var port = FreePort();
        const string pathBase = "/agents/rekeyed/";

        // The host's agent, on its own listener so it can be restarted at the same URL with the same TLS certificate.
        var agents = await StartAgentAsync(h, agentDir, port, pathBase);
        try
        {
            var url = new Uri($"https://127.0.0.1:{port}{pathBase}");
            var enrolled = await h.OkAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
            {
                ["name"] = "rekeyed", ["agentUrl"] = url.ToString(), ["agentCertFingerprint"] = agents.TlsFingerprint,
            });
            var firstAk = enrolled["akName"]!.GetValue<string>();
            await GoldenPoolAsync(h, "rekeyed");
            Assert.Equal("trusted", (await h.AttestAsync("rekeyed"))["trust"]!.GetValue<string>());

            // The machine comes back with a new TPM (board swap, TPM clear): same agent URL and TLS key, new EK and AK.
            await agents.DisposeAsync();
            agents = await StartAgentAsync(h, agentDir, port, pathBase);
            var after = await h.AttestAsync("rekeyed");
            Assert.NotEqual("trusted", after["trust"]!.GetValue<string>());
            var shown = await h.OkAsync(HttpMethod.Get, "/v1/hosts/rekeyed");
            Assert.Equal("re-enrollment-required", shown["state"]!.GetValue<string>());
            Assert.NotEqual("trusted", shown["trust"]!.GetValue<string>());

            // Until an operator enrolls it again, every attestation says so.
            var still = await h.AttestAsync("rekeyed");
            Assert.Equal("unknown", still["trust"]!.GetValue<string>());
            Assert.Contains(still["faults"]!.AsArray(), f => f!["code"]!.GetValue<string>() == "ReEnrollmentRequired");

            var again = await h.OkAsync(HttpMethod.Post, "/v1/hosts/rekeyed/enroll", new JsonObject());
            Assert.Equal("enrolled", again["state"]!.GetValue<string>());
            Assert.NotEqual(firstAk, again["akName"]!.GetValue<string>());
            Assert.Equal("trusted", (await h.AttestAsync("rekeyed"))["trust"]!.GetValue<string>());
        }
        finally
        {
            await agents.DisposeAsync();
        }
    }

    /// <summary>An agent listener at <paramref name="port"/> serving one fresh software TPM (tofu) that booted the golden chain.</summary>
    private static async Task<AgentHost> StartAgentAsync(ServiceHarness h, string dataDir, int port, string pathBase)
    {
        var agents = await AgentHost.StartAsync(new AgentOptions
        {
            Urls = $"https://127.0.0.1:{port}",
            ServiceCa = h.Server.CaCertificatePath,
            DataDirectory = dataDir,
        }, b => b.SetMinimumLevel(LogLevel.Warning));
        var tpm = SoftwareTpm.CreateInMemory();
        WriteEkCertificate(h, tpm);
        var log = Path.Combine(dataDir, "binary_bios_measurements");
        var builder = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), s_golden);
        foreach (var x in builder.Extends)
        {
            tpm.ExtendPcr((int)x.PcrIndex, [.. x.Digests.Select(d => new TpmtHa(d.Key, d.Value))]);
        }

        await File.WriteAllBytesAsync(log, builder.ToArray());
        agents.AddAgent(pathBase, tpm, "rekeyed", new AgentOptions { UefiLog = log, DataDirectory = dataDir });
        return agents;
    }

    /// <summary>An EK certificate from a vendor CA this test adds to the service's EK CA folder.</summary>
    private static void WriteEkCertificate(ServiceHarness h, SoftwareTpm tpm)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN=Rekeyed test TPM vendor CA {Guid.NewGuid():N}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509KeyUsageExtension(
            System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllText(Path.Combine(h.Options.EkCaDirectory!, $"rekeyed-{Guid.NewGuid():N}.pem"), ca.ExportCertificatePem());

        var ek = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048);
        tpm.FlushContext(ek.Handle);
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = ek.Public.Rsa!.Modulus, Exponent = [1, 0, 1] });
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Rekeyed EK", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        foreach (var ext in ServiceHarness.EkCertificateExtensions())
        {
            request.CertificateExtensions.Add(ext);
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var cert = request.Create(ca.SubjectName, System.Security.Cryptography.X509Certificates.X509SignatureGenerator.CreateForECDsa(caKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), serial);
        tpm.NvDefineSpace(TpmHandle.EkCertificateRsaNvIndex, (ushort)cert.RawData.Length, TpmNvAttributes.PpWrite | TpmNvAttributes.OwnerWrite);
        tpm.NvWrite(TpmHandle.EkCertificateRsaNvIndex, cert.RawData);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
