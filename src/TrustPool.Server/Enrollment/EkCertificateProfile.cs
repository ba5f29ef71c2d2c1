using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Enrollment;

/// <summary>
/// The TCG EK Credential Profile (2.x, section 3.2) rules an EK certificate must meet before its chain means
/// anything: a vendor CA signs more than EK certificates (platform and AK certificates chain to the same roots),
/// so a certificate that chains is an EK certificate only if it says so. Unverified input: the bytes come from
/// the agent. Rules, each a refusal naming what is wrong:
/// <list type="bullet">
/// <item>X.509 v3, and no extension twice (RFC 5280, 4.2).</item>
/// <item>Every critical extension is one of <see cref="KnownExtensions"/>; any other critical extension refuses the
/// certificate (RFC 5280, 4.2: a critical extension that is not recognised must be rejected).</item>
/// <item>Key usage present; keyEncipherment for an RSA EK, keyAgreement for an ECC EK; never keyCertSign or cRLSign.
/// Every real EK certificate seen (Infineon RSA and ECC, swtpm) marks it critical with exactly that bit.</item>
/// <item>Basic constraints, when present, CA=false.</item>
/// <item>Extended key usage, when present, contains tcg-kp-EKCertificate (2.23.133.8.1). The profile says
/// SHOULD, and older certificates carry none, so absence alone is not a refusal; an EKU naming only other
/// purposes (e.g. an AK or platform certificate) is.</item>
/// </list>
/// That the certificate's key is the EK itself is checked by <see cref="EkTrustAnchors.Validate"/>.
/// </summary>
public static class EkCertificateProfile
{
    /// <summary>tcg-kp-EKCertificate (TCG EK Credential Profile 2.x, 3.2.16; TCG OID registry 2.23.133.8.1).</summary>
    public const string EkCertificateKeyPurpose = "2.23.133.8.1";

    /// <summary>The extensions TrustPool recognises in an EK certificate, and may therefore be critical.</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownExtensions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["2.5.29.9"] = "subjectDirectoryAttributes (TPM specification, security assertions)",
        ["2.5.29.14"] = "subjectKeyIdentifier",
        ["2.5.29.15"] = "keyUsage",
        ["2.5.29.17"] = "subjectAltName (TPM manufacturer, model, version; critical when the subject is empty)",
        ["2.5.29.19"] = "basicConstraints",
        ["2.5.29.31"] = "cRLDistributionPoints",
        ["2.5.29.32"] = "certificatePolicies",
        ["2.5.29.35"] = "authorityKeyIdentifier",
        ["2.5.29.37"] = "extKeyUsage",
        ["1.3.6.1.5.5.7.1.1"] = "authorityInfoAccess",
    };

    /// <summary>Why <paramref name="certificateDer"/> is not a profile-conformant certificate for <paramref name="ek"/>, or null.</summary>
    public static string? Check(byte[] certificateDer, TpmtPublic ek)
    {
        ArgumentNullException.ThrowIfNull(certificateDer);
        ArgumentNullException.ThrowIfNull(ek);
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
            try
            {
                return Check(cert, ek);
            }
            catch (CryptographicException e)
            {
                return $"an extension of the EK certificate does not decode: {e.Message}";
            }
        }
    }

    /// <summary>The same checks on a loaded certificate.</summary>
    public static string? Check(X509Certificate2 cert, TpmtPublic ek)
    {
        ArgumentNullException.ThrowIfNull(cert);
        ArgumentNullException.ThrowIfNull(ek);
        if (cert.Version != 3)
        {
            return $"the EK certificate is X.509 version {cert.Version}; the TCG EK Credential Profile requires version 3";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        X509KeyUsageExtension? keyUsage = null;
        foreach (var ext in cert.Extensions)
        {
            var oid = ext.Oid?.Value ?? "";
            if (!seen.Add(oid))
            {
                return $"the EK certificate has the extension {oid} twice (RFC 5280, 4.2)";
            }

            if (ext.Critical && !KnownExtensions.ContainsKey(oid))
            {
                return $"the EK certificate has an unrecognised critical extension {oid} (RFC 5280, 4.2)";
            }

            switch (ext)
            {
                case X509KeyUsageExtension ku:
                    keyUsage = ku;
                    break;
                case X509BasicConstraintsExtension bc when bc.CertificateAuthority:
                    return "the EK certificate's basic constraints say it is a CA certificate (cA=TRUE)";
                case X509EnhancedKeyUsageExtension eku:
                {
                    var purposes = eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value ?? "").ToList();
                    if (!purposes.Contains(EkCertificateKeyPurpose, StringComparer.Ordinal))
                    {
                        return $"the EK certificate's extended key usage ({string.Join(", ", purposes)}) does not contain tcg-kp-EKCertificate ({EkCertificateKeyPurpose})";
                    }

                    break;
                }
            }
        }

        if (keyUsage is null)
        {
            return "the EK certificate has no key usage extension (keyEncipherment for an RSA EK, keyAgreement for an ECC EK)";
        }

        var usages = keyUsage.KeyUsages;
        if ((usages & (X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign)) != 0)
        {
            return $"the EK certificate's key usage ({usages}) allows signing certificates or CRLs";
        }

        var (needed, name) = ek.Type == TpmAlgorithmId.Ecc ? (X509KeyUsageFlags.KeyAgreement, "keyAgreement") : (X509KeyUsageFlags.KeyEncipherment, "keyEncipherment");
        if ((usages & needed) == 0)
        {
            return $"the EK certificate's key usage ({usages}) lacks {name}, which an {(ek.Type == TpmAlgorithmId.Ecc ? "ECC" : "RSA")} EK certificate must have";
        }

        return null;
    }
}
