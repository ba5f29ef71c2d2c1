using System.Security.Cryptography;
using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Tests.Software;

/// <summary>Independent checks of what the software TPM signs, with System.Security.Cryptography only.</summary>
internal static class SoftwareTpmTestKit
{
    public static bool VerifySignature(TpmtPublic key, byte[] message, byte[] signature)
    {
        var sig = TpmtSignature.Parse(signature);
        var hash = sig.HashAlg switch
        {
            TpmAlgorithmId.Sha256 => HashAlgorithmName.SHA256,
            TpmAlgorithmId.Sha384 => HashAlgorithmName.SHA384,
            TpmAlgorithmId.Sha1 => HashAlgorithmName.SHA1,
            _ => throw new NotSupportedException(sig.HashAlg.ToString()),
        };
        if (key.Rsa is { } rsaPub)
        {
            using var rsa = RSA.Create(new RSAParameters { Modulus = rsaPub.Modulus, Exponent = [0x01, 0x00, 0x01] });
            return sig.SigAlg == TpmAlgorithmId.RsaSsa && rsa.VerifyData(message, sig.RsaSignature, hash, RSASignaturePadding.Pkcs1);
        }

        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = key.Ecc!.X, Y = key.Ecc.Y },
        });
        return sig.SigAlg == TpmAlgorithmId.EcDsa && sig.R.Length == 32 && sig.S.Length == 32 &&
            ecdsa.VerifyData(message, (byte[])[.. sig.R, .. sig.S], hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>The AK public key as PEM SubjectPublicKeyInfo (what tpm2_checkquote -u accepts).</summary>
    public static string ToPem(TpmtPublic key)
    {
        if (key.Rsa is { } rsaPub)
        {
            using var rsa = RSA.Create(new RSAParameters { Modulus = rsaPub.Modulus, Exponent = [0x01, 0x00, 0x01] });
            return rsa.ExportSubjectPublicKeyInfoPem();
        }

        using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = key.Ecc!.X, Y = key.Ecc.Y } });
        return ecdsa.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>pcrDigest as the TPM computes it: H(values of the selection, banks in order, indices ascending).</summary>
    public static byte[] PcrDigest(TpmAlgorithmId hash, PcrSelection selection, PcrValues values)
    {
        var all = new List<byte>();
        foreach (var bank in selection)
        {
            foreach (var i in bank.Indices)
            {
                all.AddRange(values.Get(bank.Hash, i));
            }
        }

        return TpmHash.Hash(hash, all.ToArray());
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _ticks = 1_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
