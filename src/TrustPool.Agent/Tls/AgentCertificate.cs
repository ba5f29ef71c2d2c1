using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Tpm.Files;

namespace TrustPool.Agent.Tls;

/// <summary>
/// The agent's TLS server certificate: self-signed ECDSA P-256, created at first start and kept in the data directory
/// as PEM (certificate) + PKCS#8 PEM (key, mode 0600). The service pins its SHA-256 fingerprint at enrollment.
/// </summary>
public static class AgentCertificate
{
    /// <summary>Loads the certificate from <paramref name="dataDirectory"/>, creating it (and the directory) on first use.</summary>
    public static X509Certificate2 LoadOrCreate(string dataDirectory, out bool created)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var certPath = Path.Combine(dataDirectory, AgentDefaults.TlsCertificateFile);
        var keyPath = Path.Combine(dataDirectory, AgentDefaults.TlsKeyFile);
        created = false;
        if (!File.Exists(certPath) || !File.Exists(keyPath))
        {
            Create(dataDirectory, certPath, keyPath);
            created = true;
        }

        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // Kestrel on Linux needs the key in a form SslStream can use; an ephemeral PKCS#12 round trip gives it one.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Lower-case hex SHA-256 of the DER certificate.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));
    }

    private static void Create(string dataDirectory, string certPath, string keyPath)
    {
        Directory.CreateDirectory(dataDirectory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(AgentDefaults.TlsCertificateSubject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(Environment.MachineName);
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(AgentDefaults.TlsCertificateYears));

        // Key first, created with mode 0600 before any byte is written; both files land by rename.
        AtomicFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem(), AtomicFile.OwnerOnly);
        AtomicFile.Write(certPath, cert.ExportCertificatePem(), AtomicFile.WorldReadable);
    }
}
