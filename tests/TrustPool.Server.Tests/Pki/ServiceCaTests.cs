using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Server.Pki;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Pki;

public sealed class ServiceCaTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static string NewDir() => Path.Combine(TestTemp.CreateDirectory("trustpool-ca-").FullName, "data");

    private static void AssertMode0600(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(Mode0600, File.GetUnixFileMode(path));
        }
    }

    private static void AssertPositiveSerial(X509Certificate2 c)
    {
        var serial = c.SerialNumberBytes.Span;
        Assert.True(serial.Length >= 8, c.SerialNumber);
        Assert.True((serial[0] & 0x80) == 0, $"negative serial {c.SerialNumber}");
        Assert.True(new BigInteger(serial, isUnsigned: false, isBigEndian: true) > 0);
    }

    [Fact]
    public void LoadOrCreate_EmptyDirectory_CreatesP256CaWithPrivateKeyFile0600()
    {
        var dir = NewDir();
        using var ca = ServiceCa.LoadOrCreate(dir, out var created);

        Assert.True(created);
        Assert.Equal(Path.Combine(dir, "ca.pem"), ca.CertificatePath);
        Assert.Equal("CN=TrustPool service CA", ca.Certificate.Subject);
        Assert.Equal(ca.Certificate.Subject, ca.Certificate.Issuer);
        Assert.False(ca.Certificate.HasPrivateKey);
        using (var pub = ca.Certificate.GetECDsaPublicKey())
        {
            Assert.NotNull(pub);
            Assert.Equal(256, pub.KeySize);
        }

        var basic = ca.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(basic.CertificateAuthority);
        Assert.True(basic.HasPathLengthConstraint);
        Assert.Equal(0, basic.PathLengthConstraint);
        Assert.True(basic.Critical);
        var usage = ca.Certificate.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, usage.KeyUsages);
        var years = (ca.Certificate.NotAfter - ca.Certificate.NotBefore).TotalDays / 365.25;
        Assert.InRange(years, 9.9, 10.1);
        AssertPositiveSerial(ca.Certificate);

        AssertMode0600(Path.Combine(dir, "ca.key"));
        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(Path.Combine(dir, "ca.key")), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void LoadOrCreate_ExistingCa_LoadsTheSameCa()
    {
        var dir = NewDir();
        string thumbprint;
        using (var first = ServiceCa.LoadOrCreate(dir, out _))
        {
            thumbprint = first.Certificate.Thumbprint;
        }

        using var second = ServiceCa.LoadOrCreate(dir, out var created);
        Assert.False(created);
        Assert.Equal(thumbprint, second.Certificate.Thumbprint);
    }

    [Fact]
    public void LoadOrCreate_KeyFileMissing_ThrowsAndKeepsTheCertificate()
    {
        var dir = NewDir();
        using (ServiceCa.LoadOrCreate(dir, out _))
        {
        }

        var pem = File.ReadAllText(Path.Combine(dir, "ca.pem"));
        File.Delete(Path.Combine(dir, "ca.key"));

        // Agents trust the old CA: it is never silently replaced.
        Assert.Throws<FileNotFoundException>(() => ServiceCa.LoadOrCreate(dir, out _));
        Assert.Equal(pem, File.ReadAllText(Path.Combine(dir, "ca.pem")));
    }

    [Fact]
    public void LoadOrIssueServerCertificate_ChainsToCa_WithSansAndServerAuth()
    {
        var dir = NewDir();
        using var ca = ServiceCa.LoadOrCreate(dir, out _);
        using var server = ca.LoadOrIssueServerCertificate(dir, ["trustpool.example", "localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback]);

        Assert.True(server.HasPrivateKey);
        Assert.True(ca.Issued(server, "1.3.6.1.5.5.7.3.1"));
        Assert.False(ca.Issued(server, "1.3.6.1.5.5.7.3.2"));
        var (dns, ips) = ServiceCa.Sans(server);
        Assert.Equal(["localhost", "trustpool.example"], dns.Order(StringComparer.Ordinal));
        Assert.Equal(2, ips.Count);
        Assert.Contains(IPAddress.Loopback, ips);
        Assert.Contains(IPAddress.IPv6Loopback, ips);
        Assert.False(server.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.InRange((server.NotAfter - server.NotBefore).TotalDays, 364, 366);
        AssertPositiveSerial(server);
        AssertMode0600(Path.Combine(dir, "server.key"));

        // The chain builds with the CA as the only trust anchor.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca.Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(server), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Fact]
    public void LoadOrIssueServerCertificate_SameSans_ReloadsSameCertificate_OtherSans_Reissues()
    {
        var dir = NewDir();
        using var ca = ServiceCa.LoadOrCreate(dir, out _);
        using var first = ca.LoadOrIssueServerCertificate(dir, ["a.example"], [IPAddress.Loopback]);
        using var again = ca.LoadOrIssueServerCertificate(dir, ["A.example"], [IPAddress.Loopback]);
        Assert.Equal(first.Thumbprint, again.Thumbprint);
        Assert.True(again.HasPrivateKey);

        using var other = ca.LoadOrIssueServerCertificate(dir, ["b.example"], [IPAddress.Loopback]);
        Assert.NotEqual(first.Thumbprint, other.Thumbprint);
        Assert.Equal(["b.example"], ServiceCa.Sans(other).DnsNames);
    }

    [Fact]
    public void LoadOrIssueServerCertificate_FromAnotherCa_Reissues()
    {
        var dir = NewDir();
        var otherDir = NewDir();
        using var other = ServiceCa.LoadOrCreate(otherDir, out _);
        using var foreign = other.LoadOrIssueServerCertificate(dir, ["a.example"], []);
        using var ca = ServiceCa.LoadOrCreate(dir, out _);
        using var mine = ca.LoadOrIssueServerCertificate(dir, ["a.example"], []);
        Assert.NotEqual(foreign.Thumbprint, mine.Thumbprint);
        Assert.True(ca.Issued(mine));
    }

    [Fact]
    public void LoadOrIssueClientCertificate_HasClientAuth_AndIsStable()
    {
        var dir = NewDir();
        using var ca = ServiceCa.LoadOrCreate(dir, out _);
        using var client = ca.LoadOrIssueClientCertificate(dir);
        Assert.True(client.HasPrivateKey);
        Assert.True(ca.Issued(client, "1.3.6.1.5.5.7.3.2"));
        Assert.False(ca.Issued(client, "1.3.6.1.5.5.7.3.1"));
        var eku = client.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        AssertMode0600(Path.Combine(dir, "client.key"));
        using var again = ca.LoadOrIssueClientCertificate(dir);
        Assert.Equal(client.Thumbprint, again.Thumbprint);

        // The key SslStream gets can sign (it came from a PKCS#12 load).
        using var key = again.GetECDsaPrivateKey();
        Assert.NotNull(key);
        Assert.NotEmpty(key.SignData([1, 2, 3], HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Issue_ServerAndClient_ReturnsPemsThatChainWithBothUsages()
    {
        var dir = NewDir();
        using var ca = ServiceCa.LoadOrCreate(dir, out _);
        var (certPem, keyPem) = ca.Issue("operator one", server: true, client: true, ["op.example"], [IPAddress.Parse("10.0.0.5")], TimeSpan.FromDays(30));
        using var cert = X509Certificate2.CreateFromPem(certPem, keyPem);
        Assert.Equal("CN=operator one", cert.Subject);
        Assert.True(ca.Issued(cert, "1.3.6.1.5.5.7.3.1"));
        Assert.True(ca.Issued(cert, "1.3.6.1.5.5.7.3.2"));
        Assert.Equal(["op.example"], ServiceCa.Sans(cert).DnsNames);
        Assert.Equal([IPAddress.Parse("10.0.0.5")], ServiceCa.Sans(cert).Ips);
        Assert.InRange((cert.NotAfter - DateTime.Now).TotalDays, 29, 31);
        AssertPositiveSerial(cert);
        Assert.Throws<ArgumentException>(() => ca.Issue("x", server: false, client: false, [], [], TimeSpan.FromDays(1)));
    }
}
