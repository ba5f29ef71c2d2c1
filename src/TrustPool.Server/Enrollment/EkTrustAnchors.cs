using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Enrollment;

/// <summary>
/// TPM vendor CA certificates (from <c>--ek-ca-dir</c>, PEM or DER files) that EK certificates must chain to.
/// Self-signed certificates are roots, the others intermediates. Revocation is not checked (vendors' CRLs are
/// not reachable from an air-gapped control plane); an expired or untrusted chain is refused.
/// </summary>
public sealed class EkTrustAnchors : IDisposable
{
    private readonly X509Certificate2Collection _roots = [];
    private readonly X509Certificate2Collection _intermediates = [];

    public int Count => _roots.Count + _intermediates.Count;

    public static EkTrustAnchors Load(string? directory)
    {
        var anchors = new EkTrustAnchors();
        if (directory is null)
        {
            return anchors;
        }

        foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var ext = Path.GetExtension(file).ToLowerInvariant();
            if (ext is not (".pem" or ".crt" or ".cer" or ".der"))
            {
                continue;
            }

            var info = new FileInfo(file);
            if (info.Length > 1 << 20)
            {
                throw new InvalidOperationException($"EK CA file {file} is larger than 1 MiB");
            }

            var text = File.ReadAllText(file);
            var certs = new X509Certificate2Collection();
            if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                certs.ImportFromPem(text);
            }
            else
            {
                certs.Add(X509CertificateLoader.LoadCertificate(File.ReadAllBytes(file)));
            }

            foreach (var c in certs)
            {
                (c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData) ? anchors._roots : anchors._intermediates).Add(c);
            }
        }

        return anchors;
    }

    /// <summary>
    /// Checks that <paramref name="certificateDer"/> certifies exactly <paramref name="ek"/>'s public key, meets the
    /// TCG EK Credential Profile (<see cref="EkCertificateProfile"/>) and chains to a configured root. Returns null
    /// when it does, else why not.
    /// </summary>
    public string? Validate(byte[] certificateDer, TpmtPublic ek, DateTimeOffset now)
    {
        X509Certificate2 cert;
        try
        {
            cert = X509CertificateLoader.LoadCertificate(certificateDer);
        }
        catch (CryptographicException e)
        {
            return $"the EK certificate does not parse: {e.Message}";
        }

        using (cert)
        {
            if (!KeyMatches(cert, ek))
            {
                return "the EK certificate certifies a different key than the TPM's EK";
            }

            // Before the chain: the leaf's unrecognised critical extensions are refused here, which is what makes
            // ignoring HasNotSupportedCriticalExtension on the leaf below safe.
            try
            {
                if (EkCertificateProfile.Check(cert, ek) is { } notEk)
                {
                    return notEk;
                }
            }
            catch (CryptographicException e)
            {
                return $"an extension of the EK certificate does not decode: {e.Message}";
            }

            if (_roots.Count == 0)
            {
                return "no EK CA certificates are configured (--ek-ca-dir)";
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
            chain.ChainPolicy.ExtraStore.AddRange(_intermediates);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = now.UtcDateTime;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            if (chain.Build(cert))
            {
                return null;
            }

            // TCG EK Credential Profile 2.0, 3.2.9: the subjectAltName (TPM manufacturer/model/version as a
            // directoryName) is critical when the subject is empty, and platform libraries do not know it. That
            // one status on the leaf is not a trust problem (EkCertificateProfile already refused any critical
            // extension other than the ones it knows); every other status is.
            var problems = chain.ChainElements
                .SelectMany((e, i) => e.ChainElementStatus.Where(s => !(i == 0 && s.Status == X509ChainStatusFlags.HasNotSupportedCriticalExtension))
                    .Select(s => s.Status))
                .Where(s => s != X509ChainStatusFlags.NoError)
                .Distinct()
                .ToList();
            return problems.Count == 0 ? null : $"the EK certificate does not chain to a configured TPM vendor CA ({string.Join(", ", problems)})";
        }
    }

    private static bool KeyMatches(X509Certificate2 cert, TpmtPublic ek)
    {
        if (ek.Rsa is { } rsa)
        {
            using var key = cert.GetRSAPublicKey();
            if (key is null)
            {
                return false;
            }

            var p = key.ExportParameters(false);
            var exponent = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(exponent, rsa.EffectiveExponent);
            return p.Modulus.AsSpan().SequenceEqual(rsa.Modulus) && p.Exponent.AsSpan().SequenceEqual(exponent.AsSpan().TrimStart((byte)0));
        }

        if (ek.Ecc is { } ecc)
        {
            // SubjectPublicKeyInfo of an EC key: the uncompressed point 04 || X || Y.
            var point = cert.PublicKey.EncodedKeyValue.RawData;
            return cert.PublicKey.Oid.Value == "1.2.840.10045.2.1" && point.Length == 1 + ecc.X.Length + ecc.Y.Length && point[0] == 4 &&
                   point.AsSpan(1, ecc.X.Length).SequenceEqual(ecc.X) && point.AsSpan(1 + ecc.X.Length).SequenceEqual(ecc.Y);
        }

        return false;
    }

    public void Dispose()
    {
        foreach (var c in _roots.Concat(_intermediates))
        {
            c.Dispose();
        }
    }
}
