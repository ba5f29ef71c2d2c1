using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using TrustPool.Testing;

namespace TrustPool.Agent.Tests.Support;

/// <summary>A throw-away CA and a client certificate it issued (the attestation service's side of mutual TLS).</summary>
public sealed class TestPki : IDisposable
{
    private TestPki(X509Certificate2 ca, X509Certificate2 client, string caPemFile)
    {
        Ca = ca;
        Client = client;
        CaPemFile = caPemFile;
    }

    public X509Certificate2 Ca { get; }

    /// <summary>Client certificate with its private key (clientAuth EKU), issued by <see cref="Ca"/>.</summary>
    public X509Certificate2 Client { get; }

    public string CaPemFile { get; }

    public static TestPki Create(string name = "TrustPool Test Service CA")
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var caWithKey = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=trustpool-service", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        clientRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var issued = clientRequest.Create(caWithKey, now.AddMinutes(-5), now.AddHours(12), serial);
        using var withKey = issued.CopyWithPrivateKey(clientKey);

        // SslStream on Linux wants a client certificate whose key came from a PKCS#12 load.
        var client = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        var ca = X509CertificateLoader.LoadCertificate(caWithKey.RawData);
        var file = Path.Combine(TestTemp.CreateDirectory("trustpool-pki-").FullName, "service-ca.pem");
        File.WriteAllText(file, ca.ExportCertificatePem());
        return new TestPki(ca, client, file);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Client.Dispose();
        try
        {
            Directory.Delete(Path.GetDirectoryName(CaPemFile)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
