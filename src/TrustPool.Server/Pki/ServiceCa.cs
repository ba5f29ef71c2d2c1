using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Tpm.Files;

namespace TrustPool.Server.Pki;

/// <summary>
/// The attestation service's own certificate authority: ECDSA P-256, self-signed, <c>CN=TrustPool service CA</c>,
/// 10 years, path length 0 (it issues only end-entity certificates). It issues the service's TLS server certificate,
/// the client certificate the service presents to agents (agents trust this CA through <c>--service-ca</c>) and, via
/// <c>trustpool ca issue</c>, certificates for operators and other components.
/// Files in the data directory: <c>ca.pem</c>, <c>ca.key</c> (PKCS#8, mode 0600), <c>server.pem/.key</c>,
/// <c>client.pem/.key</c>; every file lands by rename, keys are created 0600 before a byte is written.
/// </summary>
public sealed class ServiceCa : IDisposable
{
    public const string CaCertificateFile = "ca.pem";
    public const string CaKeyFile = "ca.key";
    public const string ServerCertificateFile = "server.pem";
    public const string ServerKeyFile = "server.key";
    public const string ClientCertificateFile = "client.pem";
    public const string ClientKeyFile = "client.key";
    public const string Subject = "CN=TrustPool service CA";
    public const string ClientSubject = "CN=TrustPool service";
    public const int CaYears = 10;

    /// <summary>Issued certificates (server, client) that expire within this are re-issued on load.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>Lifetime of the service's own server and client certificates.</summary>
    public static readonly TimeSpan LeafLifetime = TimeSpan.FromDays(365);

    internal const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    internal const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2 _caWithKey;
    private readonly TimeProvider _time;

    private ServiceCa(X509Certificate2 caWithKey, string directory, TimeProvider time)
    {
        _caWithKey = caWithKey;
        _time = time;
        Directory = directory;
        Certificate = X509CertificateLoader.LoadCertificate(caWithKey.RawData);
        Fingerprint = Convert.ToHexStringLower(Certificate.GetCertHash(HashAlgorithmName.SHA256));
    }

    /// <summary>The CA certificate (public part only).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>DIR/ca.pem: what agents are given as <c>--service-ca</c>.</summary>
    public string CertificatePath => Path.Combine(Directory, CaCertificateFile);

    /// <summary>DIR/ca.key (PKCS#8 PEM, 0600).</summary>
    public string KeyPath => Path.Combine(Directory, CaKeyFile);

    /// <summary>The directory the CA was loaded from.</summary>
    public string Directory { get; }

    /// <summary>Lower-case hex SHA-256 of the DER CA certificate.</summary>
    public string Fingerprint { get; }

    /// <summary>
    /// Loads DIR/ca.pem + DIR/ca.key, or creates both (and DIR, mode 0700) when neither exists. A CA whose files
    /// exist but do not load (one missing, key not matching, not a CA) is an error, never silently replaced: every
    /// agent trusts the old one.
    /// </summary>
    public static ServiceCa LoadOrCreate(string directory, out bool created) => LoadOrCreate(directory, TimeProvider.System, out created);

    /// <inheritdoc cref="LoadOrCreate(string, out bool)"/>
    public static ServiceCa LoadOrCreate(string directory, TimeProvider time, out bool created)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(time);
        var full = Path.GetFullPath(directory);
        var cert = Path.Combine(full, CaCertificateFile);
        var key = Path.Combine(full, CaKeyFile);
        created = false;
        if (!File.Exists(cert) && !File.Exists(key))
        {
            Create(full, time);
            created = true;
        }

        return Load(full, time);
    }

    /// <summary>Loads an existing CA; <see cref="FileNotFoundException"/> when DIR/ca.pem or DIR/ca.key is missing.</summary>
    public static ServiceCa Load(string directory) => Load(directory, TimeProvider.System);

    /// <inheritdoc cref="Load(string)"/>
    public static ServiceCa Load(string directory, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(time);
        var full = Path.GetFullPath(directory);
        var certPath = Path.Combine(full, CaCertificateFile);
        var keyPath = Path.Combine(full, CaKeyFile);
        foreach (var p in new[] { certPath, keyPath })
        {
            if (!File.Exists(p))
            {
                throw new FileNotFoundException($"service CA file '{p}' does not exist (run 'trustpool ca init')", p);
            }
        }

        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // The message names the files only: it never carries key material.
            throw new InvalidDataException($"service CA '{certPath}' / '{keyPath}' does not load: {e.GetType().Name}", e);
        }

        var basic = ca.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basic is null || !basic.CertificateAuthority || ca.GetECDsaPrivateKey() is not { } k)
        {
            ca.Dispose();
            throw new InvalidDataException($"'{certPath}' is not an ECDSA CA certificate");
        }

        k.Dispose();
        return new ServiceCa(ca, full, time);
    }

    /// <summary>
    /// The service's TLS server certificate (serverAuth EKU, SANs = <paramref name="dnsNames"/> + <paramref name="ips"/>),
    /// ECDSA P-256, 1 year: DIR/server.pem + DIR/server.key when they exist, chain to this CA, are valid for at least
    /// <see cref="RenewBefore"/> and carry exactly these SANs; otherwise issued anew. Usable by SslStream on Linux.
    /// </summary>
    public X509Certificate2 LoadOrIssueServerCertificate(string directory, IEnumerable<string> dnsNames, IEnumerable<IPAddress> ips)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var dns = Normalize(dnsNames);
        var ipList = (ips ?? []).Distinct().ToList();
        if (dns.Count == 0 && ipList.Count == 0)
        {
            throw new ArgumentException("a server certificate needs at least one DNS name or IP address", nameof(dnsNames));
        }

        return LoadOrIssue(directory, ServerCertificateFile, ServerKeyFile, server: true, client: false,
            dns.Count > 0 ? "CN=" + dns[0] : "CN=" + ipList[0], dns, ipList);
    }

    /// <summary>The service's client certificate towards agents (clientAuth EKU), DIR/client.pem + client.key, same load-or-issue rule.</summary>
    public X509Certificate2 LoadOrIssueClientCertificate(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return LoadOrIssue(directory, ClientCertificateFile, ClientKeyFile, server: false, client: true, ClientSubject, [], []);
    }

    /// <summary>
    /// Issues an ECDSA P-256 certificate for someone else (<c>trustpool ca issue</c>): the certificate PEM and its
    /// PKCS#8 private key PEM. At least one of <paramref name="server"/> / <paramref name="client"/>.
    /// </summary>
    public (string CertificatePem, string KeyPem) Issue(string commonName, bool server, bool client, IEnumerable<string> dnsNames,
        IEnumerable<IPAddress> ips, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commonName);
        if (!server && !client)
        {
            throw new ArgumentException("a certificate needs serverAuth, clientAuth or both", nameof(server));
        }

        if (lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "the lifetime must be positive");
        }

        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(commonName);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = Sign(key, subject.Build(), server, client, Normalize(dnsNames), (ips ?? []).Distinct().ToList(), lifetime);
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>True when <paramref name="certificate"/> chains to this CA (and only this CA; no system roots).</summary>
    public bool Issued(X509Certificate2 certificate, string? ekuOid = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        if (ekuOid is not null)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ekuOid));
        }

        return chain.Build(certificate) && chain.ChainElements.Count == 2;
    }

    public void Dispose()
    {
        _caWithKey.Dispose();
        Certificate.Dispose();
    }

    private X509Certificate2 LoadOrIssue(string directory, string certFile, string keyFile, bool server, bool client, string subject,
        List<string> dns, List<IPAddress> ips)
    {
        var full = Path.GetFullPath(directory);
        var certPath = Path.Combine(full, certFile);
        var keyPath = Path.Combine(full, keyFile);
        if (TryLoadLeaf(certPath, keyPath, server, dns, ips) is { } existing)
        {
            return existing;
        }

        CreateDirectory(full);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = Sign(key, new X500DistinguishedName(subject), server, client, dns, ips, LeafLifetime);
        AtomicFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem(), AtomicFile.OwnerOnly);
        AtomicFile.Write(certPath, cert.ExportCertificatePem(), AtomicFile.WorldReadable);
        using var withKey = cert.CopyWithPrivateKey(key);
        return ForSslStream(withKey);
    }

    private X509Certificate2? TryLoadLeaf(string certPath, string keyPath, bool server, List<string> dns, List<IPAddress> ips)
    {
        if (!File.Exists(certPath) || !File.Exists(keyPath))
        {
            return null;
        }

        X509Certificate2 pem;
        try
        {
            pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException)
        {
            return null; // unreadable or key and certificate do not match: issue anew
        }

        using (pem)
        {
            var now = _time.GetUtcNow();
            if (pem.NotBefore.ToUniversalTime() > now.UtcDateTime || pem.NotAfter.ToUniversalTime() - RenewBefore < now.UtcDateTime ||
                !Issued(pem, server ? ServerAuthOid : ClientAuthOid))
            {
                return null;
            }

            if (server)
            {
                var (haveDns, haveIps) = Sans(pem);
                if (!haveDns.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(dns) || !haveIps.ToHashSet().SetEquals(ips))
                {
                    return null;
                }
            }

            return ForSslStream(pem);
        }
    }

    /// <summary>The DNS names and IP addresses of the certificate's subjectAltName extension.</summary>
    public static (List<string> DnsNames, List<IPAddress> Ips) Sans(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var dns = new List<string>();
        var ips = new List<IPAddress>();
        foreach (var san in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            dns.AddRange(san.EnumerateDnsNames());
            ips.AddRange(san.EnumerateIPAddresses());
        }

        return (dns, ips);
    }

    private X509Certificate2 Sign(ECDsa key, X500DistinguishedName subject, bool server, bool client, List<string> dns, List<IPAddress> ips, TimeSpan lifetime)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var eku = new OidCollection();
        if (server)
        {
            eku.Add(new Oid(ServerAuthOid));
        }

        if (client)
        {
            eku.Add(new Oid(ClientAuthOid));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(eku, false));
        if (dns.Count > 0 || ips.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var d in dns)
            {
                san.AddDnsName(d);
            }

            foreach (var ip in ips)
            {
                san.AddIpAddress(ip);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = _time.GetUtcNow();
        var notAfter = now + lifetime;
        if (notAfter > _caWithKey.NotAfter.ToUniversalTime())
        {
            // A certificate cannot outlive its issuer.
            notAfter = _caWithKey.NotAfter.ToUniversalTime();
        }

        return request.Create(_caWithKey, now.AddMinutes(-5), notAfter, NewSerial());
    }

    private static void Create(string directory, TimeProvider time)
    {
        CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        using var ca = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddMinutes(-5), now.AddYears(CaYears), NewSerial());

        // Key first (0600 from creation); the certificate last, so a present ca.pem means a complete CA.
        AtomicFile.Write(Path.Combine(directory, CaKeyFile), key.ExportPkcs8PrivateKeyPem(), AtomicFile.OwnerOnly);
        AtomicFile.Write(Path.Combine(directory, CaCertificateFile), ca.ExportCertificatePem(), AtomicFile.WorldReadable);
    }

    /// <summary>A positive random 16-byte serial (RFC 5280 4.1.2.2: positive, at most 20 octets).</summary>
    private static byte[] NewSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        serial[0] |= 0x01; // never a leading zero octet to be stripped, never negative
        return serial;
    }

    private static List<string> Normalize(IEnumerable<string> dnsNames) =>
        [.. (dnsNames ?? []).Select(d => d.Trim().TrimEnd('.').ToLowerInvariant()).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal)];

    /// <summary>SslStream on Linux wants a certificate whose key came from a PKCS#12 load: an ephemeral round trip gives it one.</summary>
    private static X509Certificate2 ForSslStream(X509Certificate2 withKey) =>
        X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

    private static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Writes a key file (0600) by rename.</summary>
    public static void WriteKeyFile(string path, string pem) => AtomicFile.Write(path, pem, AtomicFile.OwnerOnly);

    /// <summary>Writes a certificate file (0644) by rename.</summary>
    public static void WriteCertificateFile(string path, string pem) => AtomicFile.Write(path, pem, AtomicFile.WorldReadable);
}
