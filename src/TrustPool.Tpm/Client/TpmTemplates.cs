using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Client;

/// <summary>Public-area templates for the keys TrustPool creates.</summary>
public static class TpmTemplates
{
    /// <summary>
    /// TCG EK Credential Profile 2.0, B.3.3: PolicySecret(TPM_RH_ENDORSEMENT) as the EK's authPolicy
    /// (SHA-256), so that only an endorsement-authorized session can use the EK.
    /// </summary>
    public static ReadOnlySpan<byte> EkAuthPolicy =>
    [
        0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
        0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
    ];

    /// <summary>fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted | decrypt (0x000300B2).</summary>
    public const TpmObjectAttributes EkAttributes =
        TpmObjectAttributes.FixedTpm | TpmObjectAttributes.FixedParent | TpmObjectAttributes.SensitiveDataOrigin |
        TpmObjectAttributes.AdminWithPolicy | TpmObjectAttributes.Restricted | TpmObjectAttributes.Decrypt;

    /// <summary>fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | sign (0x00050072).</summary>
    public const TpmObjectAttributes AkAttributes =
        TpmObjectAttributes.FixedTpm | TpmObjectAttributes.FixedParent | TpmObjectAttributes.SensitiveDataOrigin |
        TpmObjectAttributes.UserWithAuth | TpmObjectAttributes.Restricted | TpmObjectAttributes.Sign;

    /// <summary>EK template L-1 (RSA 2048) or L-2 (ECC NIST P-256) with the unique field as given (zeros in the template).</summary>
    public static TpmtPublic Ek(TpmKeyAlgorithm algorithm, byte[]? rsaModulus = null, byte[]? eccX = null, byte[]? eccY = null) => algorithm switch
    {
        TpmKeyAlgorithm.Rsa2048 => new TpmtPublic(TpmAlgorithmId.Rsa, TpmAlgorithmId.Sha256, EkAttributes, EkAuthPolicy.ToArray(),
            new RsaPublicParameters(TpmSymmetricDefinition.Aes128Cfb, TpmScheme.Null, 2048, 0, rsaModulus ?? new byte[256]), null),
        TpmKeyAlgorithm.EccP256 => new TpmtPublic(TpmAlgorithmId.Ecc, TpmAlgorithmId.Sha256, EkAttributes, EkAuthPolicy.ToArray(), null,
            new EccPublicParameters(TpmSymmetricDefinition.Aes128Cfb, TpmScheme.Null, TpmEccCurve.NistP256, TpmScheme.Null,
                eccX ?? new byte[32], eccY ?? new byte[32])),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>AK template: restricted signing key, RSASSA-SHA256 (RSA 2048) or ECDSA-SHA256 (P-256); unique empty in the template.</summary>
    public static TpmtPublic Ak(TpmKeyAlgorithm algorithm, byte[]? rsaModulus = null, byte[]? eccX = null, byte[]? eccY = null) => algorithm switch
    {
        TpmKeyAlgorithm.Rsa2048 => new TpmtPublic(TpmAlgorithmId.Rsa, TpmAlgorithmId.Sha256, AkAttributes, [],
            new RsaPublicParameters(TpmSymmetricDefinition.Null, new TpmScheme(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.Sha256), 2048, 0,
                rsaModulus ?? []), null),
        TpmKeyAlgorithm.EccP256 => new TpmtPublic(TpmAlgorithmId.Ecc, TpmAlgorithmId.Sha256, AkAttributes, [], null,
            new EccPublicParameters(TpmSymmetricDefinition.Null, new TpmScheme(TpmAlgorithmId.EcDsa, TpmAlgorithmId.Sha256),
                TpmEccCurve.NistP256, TpmScheme.Null, eccX ?? [], eccY ?? [])),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };
}
