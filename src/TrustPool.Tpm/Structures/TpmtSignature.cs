using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Structures;

/// <summary>
/// TPMT_SIGNATURE (TPM 2.0 Part 2, 11.3.4): RSASSA/RSAPSS carry one TPM2B_PUBLIC_KEY_RSA, ECDSA-family
/// schemes carry r and s as TPM2B_ECC_PARAMETER. Unverified until checked against a key.
/// </summary>
public sealed record TpmtSignature(TpmAlgorithmId SigAlg, TpmAlgorithmId HashAlg, byte[] RsaSignature, byte[] R, byte[] S)
{
    public static TpmtSignature Rsa(TpmAlgorithmId scheme, TpmAlgorithmId hash, byte[] signature) => new(scheme, hash, signature, [], []);

    public static TpmtSignature Ecdsa(TpmAlgorithmId hash, byte[] r, byte[] s) => new(TpmAlgorithmId.EcDsa, hash, [], r, s);

    public bool IsRsa => SigAlg is TpmAlgorithmId.RsaSsa or TpmAlgorithmId.RsaPss;

    public bool IsEcc => SigAlg is TpmAlgorithmId.EcDsa or TpmAlgorithmId.EcDaa or TpmAlgorithmId.EcSchnorr or (TpmAlgorithmId)0x001B;

    public static TpmtSignature Parse(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var s = Read(ref r);
        r.ThrowIfNotEmpty("TPMT_SIGNATURE");
        return s;
    }

    public static TpmtSignature Read(ref TpmReader r)
    {
        var at = r.Offset;
        var alg = r.ReadAlgorithm("TPMT_SIGNATURE.sigAlg");
        switch (alg)
        {
            case TpmAlgorithmId.RsaSsa:
            case TpmAlgorithmId.RsaPss:
            {
                var hash = r.ReadAlgorithm("TPMS_SIGNATURE_RSA.hash");
                var sig = r.ReadSizedBytes("TPMS_SIGNATURE_RSA.sig", TpmLimits.MaxRsaKeyBytes).ToArray();
                return new TpmtSignature(alg, hash, sig, [], []);
            }

            case TpmAlgorithmId.EcDsa:
            case TpmAlgorithmId.EcDaa:
            case TpmAlgorithmId.EcSchnorr:
            case (TpmAlgorithmId)0x001B: // TPM_ALG_SM2
            {
                var hash = r.ReadAlgorithm("TPMS_SIGNATURE_ECC.hash");
                var sr = r.ReadSizedBytes("TPMS_SIGNATURE_ECC.signatureR", TpmLimits.MaxEccKeyBytes).ToArray();
                var ss = r.ReadSizedBytes("TPMS_SIGNATURE_ECC.signatureS", TpmLimits.MaxEccKeyBytes).ToArray();
                return new TpmtSignature(alg, hash, [], sr, ss);
            }

            default:
                throw new TpmFormatException("TPMT_SIGNATURE.sigAlg", at, $"unsupported signature algorithm 0x{(ushort)alg:x4}");
        }
    }

    public void Write(TpmWriter w)
    {
        w.WriteAlgorithm(SigAlg).WriteAlgorithm(HashAlg);
        if (IsRsa)
        {
            w.WriteSized(RsaSignature);
        }
        else
        {
            w.WriteSized(R).WriteSized(S);
        }
    }

    public byte[] ToBytes()
    {
        var w = new TpmWriter(IsRsa ? RsaSignature.Length + 6 : 80);
        Write(w);
        return w.ToArray();
    }
}
