using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Enrollment;

/// <summary>
/// The algorithms an enrolled AK and EK may use. Everything here comes from the agent (root on the host controls
/// it) and is checked before the key's Name is computed or a credential is made for it, so a weak or unsupported
/// choice is a 422 refusal, never a 5xx. Allowed:
/// <list type="bullet">
/// <item>nameAlg: SHA-256, SHA-384, SHA-512 (a SHA-1 Name lets a second public area collide with the enrolled one).</item>
/// <item>AK scheme: RSASSA or RSAPSS (RSA), ECDSA (ECC), with hashAlg SHA-256, SHA-384 or SHA-512. A restricted
/// signing key must name its scheme (TPM 2.0 Part 2, 12.2.3.6: with TPM_ALG_NULL the quote's scheme is the
/// caller's choice, SHA-1 included).</item>
/// <item>RSA: 2048, 3072 or 4096 bits, the modulus exactly that long, exponent the default 2^16 + 1.</item>
/// <item>ECC: NIST P-256, P-384 or P-521, the point coordinates no longer than the curve's size (BN and SM2 curves are for
/// ECDAA / SM2 schemes, which TrustPool does not verify).</item>
/// <item>EK: a storage key's symmetric definition AES-128/192/256 in CFB mode (TCG EK Credential Profile 2.x
/// templates L-1, L-2 and H-1 to H-7 all use SHA-256 or stronger nameAlg and AES-CFB).</item>
/// </list>
/// </summary>
public static class KeyStrength
{
    /// <summary>Why <paramref name="ak"/> is too weak to be an AK, or null when it is acceptable.</summary>
    public static string? WeakAk(TpmtPublic ak)
    {
        ArgumentNullException.ThrowIfNull(ak);
        if (WeakNameAlg(ak.NameAlg) is { } n)
        {
            return "AK " + n;
        }

        var scheme = ak.Scheme;
        var allowedSchemes = ak.Type == TpmAlgorithmId.Rsa ? "RSASSA or RSAPSS" : "ECDSA";
        if (scheme.Scheme == TpmAlgorithmId.Null)
        {
            return $"the AK has no signing scheme (TPM_ALG_NULL): a restricted signing key must name one ({allowedSchemes} with SHA-256 or stronger)";
        }

        var schemeOk = ak.Type == TpmAlgorithmId.Rsa ? scheme.Scheme is TpmAlgorithmId.RsaSsa or TpmAlgorithmId.RsaPss : scheme.Scheme == TpmAlgorithmId.EcDsa;
        if (!schemeOk)
        {
            return $"the AK's signing scheme {Alg(scheme.Scheme)} is not supported ({allowedSchemes} is)";
        }

        if (!StrongHash(scheme.HashAlg))
        {
            return $"the AK's signing scheme {Alg(scheme.Scheme)} uses {Alg(scheme.HashAlg)}; SHA-256, SHA-384 or SHA-512 is required";
        }

        return WeakKey("AK", ak);
    }

    /// <summary>Why <paramref name="ek"/> is too weak to be an EK, or null when it is acceptable.</summary>
    public static string? WeakEk(TpmtPublic ek)
    {
        ArgumentNullException.ThrowIfNull(ek);
        if (WeakNameAlg(ek.NameAlg) is { } n)
        {
            return "EK " + n;
        }

        var sym = ek.Symmetric;
        if (sym.Algorithm != TpmAlgorithmId.Aes || sym.Mode != TpmAlgorithmId.Cfb || sym.KeyBits is not (128 or 192 or 256))
        {
            return $"the EK's symmetric definition {Alg(sym.Algorithm)}-{sym.KeyBits}-{Alg(sym.Mode)} is not AES-128/192/256 in CFB mode";
        }

        return WeakKey("EK", ek);
    }

    private static string? WeakNameAlg(TpmAlgorithmId nameAlg) =>
        StrongHash(nameAlg) ? null : $"nameAlg {Alg(nameAlg)} is not allowed; SHA-256, SHA-384 or SHA-512 is required";

    private static bool StrongHash(TpmAlgorithmId alg) => alg is TpmAlgorithmId.Sha256 or TpmAlgorithmId.Sha384 or TpmAlgorithmId.Sha512;

    private static string? WeakKey(string role, TpmtPublic key)
    {
        if (key.Rsa is { } rsa)
        {
            if (rsa.KeyBits is not (2048 or 3072 or 4096))
            {
                return $"the {role} is RSA-{rsa.KeyBits}; RSA-2048, 3072 or 4096 is required";
            }

            if (rsa.Modulus.Length * 8 != rsa.KeyBits || (rsa.Modulus[0] & 0x80) == 0)
            {
                return $"the {role}'s modulus has {rsa.Modulus.Length} bytes (top bit {(rsa.Modulus.Length == 0 ? 0 : rsa.Modulus[0] >> 7)}), not the {rsa.KeyBits} bits its keyBits declare";
            }

            if (rsa.EffectiveExponent != 65537)
            {
                return $"the {role}'s RSA exponent is {rsa.EffectiveExponent}; only the default 65537 is accepted";
            }

            return null;
        }

        if (key.Ecc is { } ecc)
        {
            var size = ecc.Curve switch
            {
                TpmEccCurve.NistP256 => 32,
                TpmEccCurve.NistP384 => 48,
                TpmEccCurve.NistP521 => 66,
                _ => 0,
            };
            if (size == 0)
            {
                return $"the {role}'s curve {ecc.Curve} (0x{(ushort)ecc.Curve:x4}) is not allowed; NIST P-256, P-384 or P-521 is required";
            }

            // A coordinate may come without its leading zero bytes, never longer than the curve.
            return ecc.X.Length is >= 1 && ecc.X.Length <= size && ecc.Y.Length is >= 1 && ecc.Y.Length <= size ? null
                : $"the {role}'s point has coordinates of {ecc.X.Length} and {ecc.Y.Length} bytes; {ecc.Curve} needs 1 to {size}";
        }

        return $"the {role} is neither RSA nor ECC";
    }

    private static string Alg(TpmAlgorithmId alg) => Enum.IsDefined(alg) ? alg.ToString() : $"0x{(ushort)alg:x4}";
}
