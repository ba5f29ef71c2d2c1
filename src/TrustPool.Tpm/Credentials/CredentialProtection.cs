using System.Security.Cryptography;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Credentials;

/// <summary>
/// Output of MakeCredential, in the form <see cref="Client.ITpm.ActivateCredential"/> takes:
/// <see cref="CredentialBlob"/> is the TPM2B_ID_OBJECT contents (TPM2B integrityHMAC || encIdentity) and
/// <see cref="EncryptedSecret"/> the TPM2B_ENCRYPTED_SECRET contents, both without their outer size.
/// </summary>
public sealed record EncryptedCredential(byte[] CredentialBlob, byte[] EncryptedSecret)
{
    /// <summary>
    /// The file tpm2_makecredential writes and tpm2_activatecredential reads (tpm2-tools 5.x): the header
    /// magic 0xBADCC0DE and version 1 as big-endian u32s, then the marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
    /// </summary>
    public byte[] ToTpm2ToolsFile()
    {
        var w = new TpmWriter(16 + CredentialBlob.Length + EncryptedSecret.Length);
        w.WriteUInt32(Tpm2ToolsMagic).WriteUInt32(1).WriteSized(CredentialBlob).WriteSized(EncryptedSecret);
        return w.ToArray();
    }

    /// <summary>Parses the tpm2_makecredential file format (see <see cref="ToTpm2ToolsFile"/>).</summary>
    public static EncryptedCredential FromTpm2ToolsFile(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var at = r.Offset;
        if (r.ReadUInt32("header.magic") != Tpm2ToolsMagic)
        {
            throw new TpmFormatException("header.magic", at, "not 0xBADCC0DE (tpm2_makecredential output)");
        }

        at = r.Offset;
        var version = r.ReadUInt32("header.version");
        if (version != 1)
        {
            throw new TpmFormatException("header.version", at, $"version {version}, only 1 is known");
        }

        var blob = r.ReadSizedBytes("TPM2B_ID_OBJECT", TpmLimits.MaxIdObjectSize).ToArray();
        var secret = r.ReadSizedBytes("TPM2B_ENCRYPTED_SECRET", TpmLimits.MaxEncryptedSecretSize).ToArray();
        r.ThrowIfNotEmpty("tpm2_makecredential file");
        return new EncryptedCredential(blob, secret);
    }

    private const uint Tpm2ToolsMagic = 0xBADCC0DE;
}

/// <summary>
/// Credential protection (TPM 2.0 Part 1, 24; Part 3, 12.5-12.6): the verifier encrypts a small secret so that
/// only a TPM that holds the EK private key AND has an object with the given Name loaded can recover it.
/// Pure: no I/O. <see cref="MakeCredential(TpmtPublic, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> is what the
/// attestation service runs; the Activate methods are the TPM side, used by the software TPM.
/// </summary>
public static class CredentialProtection
{
    /// <summary>Label of the seed for credential protection (Part 1, 24.4), used with its terminating zero.</summary>
    public const string IdentityLabel = "IDENTITY";

    /// <summary>
    /// TPM2_MakeCredential in software. <paramref name="ek"/> must be a restricted decryption key with a symmetric
    /// definition (the TCG EK templates: AES-128-CFB); <paramref name="objectName"/> is the AK's Name
    /// (nameAlg || digest); <paramref name="credential"/> at most the EK nameAlg's digest size (32 bytes for SHA-256).
    /// </summary>
    public static EncryptedCredential MakeCredential(TpmtPublic ek, ReadOnlySpan<byte> objectName, ReadOnlySpan<byte> credential)
    {
        CheckEk(ek);
        CheckInputs(ek, objectName, credential);
        var (seed, encryptedSecret) = SecretSharing.Create(ek, IdentityLabel);
        try
        {
            return new EncryptedCredential(Protect(ek, seed, objectName, credential), encryptedSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The deterministic part of MakeCredential (Part 1, 24.4-24.5) for a given seed.</summary>
    internal static byte[] Protect(TpmtPublic ek, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> objectName, ReadOnlySpan<byte> credential)
    {
        var nameAlg = ek.NameAlg;
        var digestSize = TpmHash.DigestSize(nameAlg);

        // Part 1, 24.4: symKey = KDFa(ekNameAlg, seed, "STORAGE", name, NULL, symmetric key bits);
        // encIdentity = CFB(symKey, IV = 0, marshalled TPM2B_DIGEST credential).
        var symKey = TpmKdf.KdfA(nameAlg, seed, "STORAGE", objectName, [], ek.Symmetric.KeyBits);
        var plain = new TpmWriter(2 + credential.Length).WriteSized(credential).ToArray();
        var encIdentity = AesCfb.Encrypt(symKey, plain);
        CryptographicOperations.ZeroMemory(symKey);
        CryptographicOperations.ZeroMemory(plain);

        // Part 1, 24.5: HMACkey = KDFa(ekNameAlg, seed, "INTEGRITY", NULL, NULL, digest bits);
        // outerHMAC = HMAC(HMACkey, encIdentity || name).
        var outerHmac = OuterHmac(nameAlg, seed, encIdentity, objectName);
        var w = new TpmWriter(2 + digestSize + encIdentity.Length);
        w.WriteSized(outerHmac).WriteBytes(encIdentity);
        return w.ToArray();
    }

    /// <summary>
    /// TPM2_ActivateCredential with the EK private key in software (the software TPM's implementation).
    /// <paramref name="objectName"/> is the Name of the object the caller claims the credential is for (the loaded AK).
    /// Throws only <see cref="CredentialException"/> for bad blobs or secrets, never reveals which byte was wrong.
    /// </summary>
    public static byte[] ActivateCredential(TpmtPublic ek, RSAParameters ekPrivateKey, ReadOnlySpan<byte> objectName,
        ReadOnlySpan<byte> credentialBlob, ReadOnlySpan<byte> encryptedSecret)
    {
        CheckEk(ek);
        if (ek.Type != TpmAlgorithmId.Rsa)
        {
            throw new ArgumentException("the EK is not an RSA key", nameof(ek));
        }

        var seed = SecretSharing.RsaRecover(ek, ekPrivateKey, IdentityLabel, encryptedSecret);
        return Unprotect(ek, seed, objectName, credentialBlob);
    }

    /// <inheritdoc cref="ActivateCredential(TpmtPublic, RSAParameters, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>
    public static byte[] ActivateCredential(TpmtPublic ek, ECDiffieHellman ekPrivateKey, ReadOnlySpan<byte> objectName,
        ReadOnlySpan<byte> credentialBlob, ReadOnlySpan<byte> encryptedSecret)
    {
        CheckEk(ek);
        if (ek.Type != TpmAlgorithmId.Ecc)
        {
            throw new ArgumentException("the EK is not an ECC key", nameof(ek));
        }

        var seed = SecretSharing.EcdhRecover(ek, ekPrivateKey, IdentityLabel, encryptedSecret);
        return Unprotect(ek, seed, objectName, credentialBlob);
    }

    /// <summary>Part 3, 12.5.2 / Part 1, 24.5: check the outer HMAC first (constant time), then decrypt and unmarshal.</summary>
    internal static byte[] Unprotect(TpmtPublic ek, byte[] seed, ReadOnlySpan<byte> objectName, ReadOnlySpan<byte> credentialBlob)
    {
        try
        {
            var nameAlg = ek.NameAlg;
            var digestSize = TpmHash.DigestSize(nameAlg);
            ReadOnlySpan<byte> integrity;
            ReadOnlySpan<byte> encIdentity;
            try
            {
                var r = new TpmReader(credentialBlob);
                integrity = r.ReadSizedBytes("TPM2B_ID_OBJECT.integrityHMAC", TpmLimits.MaxDigestSize);
                encIdentity = r.ReadBytes(r.Remaining, "TPM2B_ID_OBJECT.encIdentity");
            }
            catch (TpmFormatException e)
            {
                throw new CredentialException(CredentialFailure.Malformed, "credential blob is not a TPM2B_ID_OBJECT: " + e.Message, e);
            }

            if (integrity.Length != digestSize)
            {
                throw new CredentialException(CredentialFailure.Malformed, $"integrity HMAC has {integrity.Length} bytes, not {digestSize}");
            }

            if (encIdentity.Length < 2)
            {
                throw new CredentialException(CredentialFailure.Malformed, "encIdentity is shorter than a TPM2B size");
            }

            var expected = OuterHmac(nameAlg, seed, encIdentity, objectName);
            if (!CryptographicOperations.FixedTimeEquals(expected, integrity))
            {
                throw new CredentialException(CredentialFailure.IntegrityCheckFailed,
                    "integrity check failed: the credential was made for another EK or another object Name, or was altered");
            }

            var symKey = TpmKdf.KdfA(nameAlg, seed, "STORAGE", objectName, [], ek.Symmetric.KeyBits);
            var plain = AesCfb.Decrypt(symKey, encIdentity);
            CryptographicOperations.ZeroMemory(symKey);
            try
            {
                var r = new TpmReader(plain);
                var credential = r.ReadSizedBytes("TPM2B_DIGEST.credential", digestSize).ToArray();
                r.ThrowIfNotEmpty("TPM2B_DIGEST");
                return credential;
            }
            catch (TpmFormatException e)
            {
                throw new CredentialException(CredentialFailure.Malformed, "decrypted credential is not a TPM2B_DIGEST: " + e.Message, e);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plain);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    private static byte[] OuterHmac(TpmAlgorithmId nameAlg, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> encIdentity, ReadOnlySpan<byte> objectName)
    {
        var digestSize = TpmHash.DigestSize(nameAlg);
        var hmacKey = TpmKdf.KdfA(nameAlg, seed, "INTEGRITY", [], [], 8 * digestSize);
        using var hmac = IncrementalHash.CreateHMAC(TpmHash.ToHashAlgorithmName(nameAlg), hmacKey);
        CryptographicOperations.ZeroMemory(hmacKey);
        hmac.AppendData(encIdentity);
        hmac.AppendData(objectName);
        return hmac.GetHashAndReset();
    }

    private static void CheckEk(TpmtPublic ek)
    {
        ArgumentNullException.ThrowIfNull(ek);
        if (!TpmHash.IsSupported(ek.NameAlg))
        {
            throw new NotSupportedException($"EK nameAlg {ek.NameAlg}");
        }

        // Part 3, 12.6.1: the key must be a storage key (restricted decryption key with a symmetric definition).
        var attrs = ek.ObjectAttributes;
        if (!attrs.HasFlag(Structures.TpmObjectAttributes.Restricted) || !attrs.HasFlag(Structures.TpmObjectAttributes.Decrypt))
        {
            throw new ArgumentException("the EK must be a restricted decryption key", nameof(ek));
        }

        var sym = ek.Symmetric;
        if (sym.Algorithm != TpmAlgorithmId.Aes || sym.Mode != TpmAlgorithmId.Cfb || sym.KeyBits is not (128 or 192 or 256))
        {
            throw new NotSupportedException($"EK symmetric definition {sym.Algorithm}-{sym.KeyBits}-{sym.Mode} (AES-CFB is supported)");
        }
    }

    private static void CheckInputs(TpmtPublic ek, ReadOnlySpan<byte> objectName, ReadOnlySpan<byte> credential)
    {
        var digestSize = TpmHash.DigestSize(ek.NameAlg);
        if (credential.Length > digestSize)
        {
            throw new ArgumentException($"the credential may have at most {digestSize} bytes (the EK nameAlg digest size; Part 3, 12.6)", nameof(credential));
        }

        if (objectName.Length < 2 || objectName.Length > TpmLimits.MaxNameSize)
        {
            throw new ArgumentException("objectName must be a TPM Name (nameAlg || digest)", nameof(objectName));
        }
    }
}
