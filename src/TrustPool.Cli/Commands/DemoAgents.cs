using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Cli.Commands;

/// <summary>A simulated host: its software TPM (host side only), what it boots and the agent URL the service enrolls.</summary>
internal sealed class DemoHost
{
    public required string Name { get; init; }

    public required DemoHardware Hardware { get; init; }

    public required DemoOs Os { get; init; }

    public required string Country { get; init; }

    public required Uri AgentUrl { get; init; }

    /// <summary>Host side only: the demo "boots" the host by extending this TPM. The service never touches it.</summary>
    public required SoftwareTpm Tpm { get; init; }

    public required string LogFile { get; init; }

    public IReadOnlyDictionary<string, string> Tags => new Dictionary<string, string>(StringComparer.Ordinal) { ["country"] = Country };
}

/// <summary>
/// The demo's hosts: every simulated host is a real TrustPool agent (its own software TPM and boot log) behind one
/// HTTPS listener on 127.0.0.1 with a path base per host; the listener asks for client certificates from the service
/// CA (mutual TLS), as a deployed agent does. Each TPM carries an EK certificate from a throw-away demo "TPM vendor
/// CA" whose certificate the service finds in its EK CA directory (EK trust <c>ca</c>).
/// </summary>
internal sealed class DemoAgents : IAsyncDisposable
{
    private readonly AgentHost _host;
    private readonly ECDsa _vendorKey;
    private readonly X509Certificate2 _vendorCa;
    private readonly string _directory;

    private DemoAgents(AgentHost host, ECDsa vendorKey, X509Certificate2 vendorCa, string directory)
    {
        _host = host;
        _vendorKey = vendorKey;
        _vendorCa = vendorCa;
        _directory = directory;
    }

    public Uri BaseAddress => _host.Addresses[0];

    /// <summary>Writes the demo vendor CA into <paramref name="ekCaDirectory"/> (before the service starts and loads it).</summary>
    public static (ECDsa Key, X509Certificate2 Certificate) CreateVendorCa(string ekCaDirectory, string subject = "CN=TrustPool demo TPM vendor CA")
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        Directory.CreateDirectory(ekCaDirectory);
        File.WriteAllText(Path.Combine(ekCaDirectory, "demo-vendor-ca.pem"), ca.ExportCertificatePem());
        return (key, ca);
    }

    public static async Task<DemoAgents> StartAsync(string directory, string serviceCaFile, (ECDsa Key, X509Certificate2 Certificate) vendorCa)
    {
        var options = new AgentOptions { Urls = "https://127.0.0.1:0", ServiceCa = serviceCaFile, DataDirectory = Path.Combine(directory, "agents") };
        var host = await AgentHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Error));
        return new DemoAgents(host, vendorCa.Key, vendorCa.Certificate, directory);
    }

    /// <summary>
    /// The host side of a new host, before any agent runs: a software TPM with an EK certificate signed by
    /// <paramref name="vendorCa"/>, booted into <paramref name="boot"/> (RSA EK generation: the slow part, run in parallel).
    /// </summary>
    public static (SoftwareTpm Tpm, string LogFile) Prepare(string directory, string name, (ECDsa Key, X509Certificate2 Certificate) vendorCa, SimulatedBoot boot)
    {
        var tpm = SoftwareTpm.CreateInMemory();
        try
        {
            WriteEkCertificate(tpm, vendorCa.Certificate, vendorCa.Key, name);
            var log = Path.Combine(directory, name + ".binary_bios_measurements");
            Measure(tpm, boot, log);
            return (tpm, log);
        }
        catch
        {
            tpm.Dispose();
            throw;
        }
    }

    /// <summary>Starts serving a prepared host at /agents/NAME/ (the agent owns its TPM from now on).</summary>
    public DemoHost Add(string name, DemoHardware hardware, DemoOs os, string country, (SoftwareTpm Tpm, string LogFile) prepared)
    {
        var pathBase = $"/agents/{name}/";
        _host.AddAgent(pathBase, prepared.Tpm, name, new AgentOptions { UefiLog = prepared.LogFile, DataDirectory = Path.Combine(_directory, "agents") });
        return new DemoHost
        {
            Name = name, Hardware = hardware, Os = os, Country = country, AgentUrl = new Uri(BaseAddress, pathBase), Tpm = prepared.Tpm, LogFile = prepared.LogFile,
        };
    }

    /// <summary>The agents' TLS certificate fingerprint, which the operator pins at enrollment.</summary>
    public string TlsFingerprint => _host.TlsFingerprint;

    /// <summary>The host reboots into <paramref name="boot"/>: TPM Reset (PCRs zero), new measurements, new log.</summary>
    public static void Reboot(DemoHost host, SimulatedBoot boot)
    {
        host.Tpm.Reboot();
        Measure(host.Tpm, boot, host.LogFile);
    }

    /// <summary>Measured boot: every event of the generated log is extended into the TPM and the log written for the agent to serve.</summary>
    private static void Measure(SoftwareTpm tpm, SimulatedBoot boot, string logFile)
    {
        var builder = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), boot);
        foreach (var x in builder.Extends)
        {
            tpm.ExtendPcr((int)x.PcrIndex, [.. x.Digests.Select(d => new TpmtHa(d.Key, d.Value))]);
        }

        File.WriteAllBytes(logFile, builder.ToArray());
    }

    /// <summary>
    /// TCG EK Credential Profile: the EK certificate in NV 0x01C00002, certifying the RSA EK's public key (key usage
    /// keyEncipherment, extended key usage tcg-kp-EKCertificate, not a CA).
    /// </summary>
    private static void WriteEkCertificate(SoftwareTpm tpm, X509Certificate2 ca, ECDsa caKey, string host)
    {
        var ek = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048);
        tpm.FlushContext(ek.Handle);
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = ek.Public.Rsa!.Modulus, Exponent = [1, 0, 1] });
        var request = new CertificateRequest($"CN=TrustPool demo EK {host}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        // TCG EK Credential Profile 2.x, 3.2, as swtpm's own EK certificates: the service refuses anything else.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("2.23.133.8.1")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var cert = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), serial);
        var der = cert.RawData;
        tpm.NvDefineSpace(TpmHandle.EkCertificateRsaNvIndex, (ushort)der.Length, TpmNvAttributes.PpWrite | TpmNvAttributes.OwnerWrite);
        tpm.NvWrite(TpmHandle.EkCertificateRsaNvIndex, der);
    }

    /// <summary>Stops the agents (which dispose their TPMs).</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _vendorCa.Dispose();
        _vendorKey.Dispose();
    }
}
