using System.Security.Cryptography;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Quotes;

/// <summary>
/// An attestation key's public half, imported once into System.Security.Cryptography and reused for every
/// quote it signs (importing per quote would cost more than the verification itself). Thread-safe for verification.
/// </summary>
public sealed class AttestationKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ecdsa;
    private readonly int _eccFieldBytes;

    private AttestationKey(RSA? rsa, ECDsa? ecdsa, TpmtPublic? tpmPublic)
    {
        _rsa = rsa;
        _ecdsa = ecdsa;
        Public = tpmPublic;
        if (ecdsa is not null)
        {
            _eccFieldBytes = (ecdsa.KeySize + 7) / 8;
        }
    }

    /// <summary>The TPM public area when the key came from one (null for a bare PEM key).</summary>
    public TpmtPublic? Public { get; }

    public bool IsRsa => _rsa is not null;

    /// <summary>The key's TPM Name, when known.</summary>
    public byte[]? Name => Public?.Name;

    /// <summary>Imports an RSA or ECC (P-256/P-384/P-521) TPMT_PUBLIC.</summary>
    public static AttestationKey FromPublic(TpmtPublic pub)
    {
        if (pub.Rsa is { } rsaParms)
        {
            if (rsaParms.Modulus.Length == 0)
            {
                throw new ArgumentException("RSA public area has no modulus", nameof(pub));
            }

            var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters { Modulus = rsaParms.Modulus, Exponent = ExponentBytes(rsaParms.EffectiveExponent) });
            return new AttestationKey(rsa, null, pub);
        }

        var ecc = pub.Ecc!;
        var curve = ecc.Curve switch
        {
            TpmEccCurve.NistP256 => ECCurve.NamedCurves.nistP256,
            TpmEccCurve.NistP384 => ECCurve.NamedCurves.nistP384,
            TpmEccCurve.NistP521 => ECCurve.NamedCurves.nistP521,
            _ => throw new NotSupportedException($"ECC curve {ecc.Curve} is not supported"),
        };
        var size = curve.Oid.FriendlyName == "nistP521" ? 66 : curve.Oid.FriendlyName == "nistP384" ? 48 : 32;
        var ecdsa = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = LeftPad(ecc.X, size), Y = LeftPad(ecc.Y, size) } });
        return new AttestationKey(null, ecdsa, pub);
    }

    /// <summary>
    /// Reads an AK from a file as tpm2-tools writes it: PEM SubjectPublicKeyInfo, TPM2B_PUBLIC or bare TPMT_PUBLIC.
    /// </summary>
    public static AttestationKey FromFileBytes(ReadOnlySpan<byte> bytes)
    {
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        if (text.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
        {
            return FromPem(text);
        }

        return FromPublic(TpmtPublic.ParseEither(bytes));
    }

    /// <summary>Imports a PEM SubjectPublicKeyInfo (RSA or EC).</summary>
    public static AttestationKey FromPem(string pem)
    {
        var start = pem.IndexOf("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal);
        var end = pem.IndexOf("-----END PUBLIC KEY-----", StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            throw new TpmFormatException("PEM", 0, "no PUBLIC KEY block");
        }

        var b64 = pem[(start + 26)..end];
        byte[] der;
        try
        {
            der = Convert.FromBase64String(b64);
        }
        catch (FormatException e)
        {
            throw new TpmFormatException("PEM base64 is invalid", e);
        }

        return FromSubjectPublicKeyInfo(der);
    }

    public static AttestationKey FromSubjectPublicKeyInfo(ReadOnlySpan<byte> der)
    {
        try
        {
            var rsa = RSA.Create();
            try
            {
                rsa.ImportSubjectPublicKeyInfo(der, out _);
                return new AttestationKey(rsa, null, null);
            }
            catch (CryptographicException)
            {
                rsa.Dispose();
            }

            var ec = ECDsa.Create();
            ec.ImportSubjectPublicKeyInfo(der, out _);
            return new AttestationKey(null, ec, null);
        }
        catch (CryptographicException e)
        {
            throw new TpmFormatException("SubjectPublicKeyInfo is neither an RSA nor an EC public key", e);
        }
    }

    /// <summary>PEM SubjectPublicKeyInfo, as tpm2_checkquote -u accepts it.</summary>
    public string ExportPem() => _rsa is not null ? _rsa.ExportSubjectPublicKeyInfoPem() : _ecdsa!.ExportSubjectPublicKeyInfoPem();

    /// <summary>Checks <paramref name="signature"/> over <paramref name="message"/> with the signature's own hash and scheme.</summary>
    public bool Verify(ReadOnlySpan<byte> message, TpmtSignature signature)
    {
        if (!TpmHash.IsSupported(signature.HashAlg))
        {
            return false;
        }

        var hash = TpmHash.ToHashAlgorithmName(signature.HashAlg);
        if (_rsa is not null)
        {
            var padding = signature.SigAlg switch
            {
                TpmAlgorithmId.RsaSsa => RSASignaturePadding.Pkcs1,
                TpmAlgorithmId.RsaPss => RSASignaturePadding.Pss,
                _ => null,
            };
            if (padding is null)
            {
                return false;
            }

            try
            {
                return _rsa.VerifyData(message, signature.RsaSignature, hash, padding);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }

        if (signature.SigAlg != TpmAlgorithmId.EcDsa)
        {
            return false;
        }

        var n = _eccFieldBytes;
        if (signature.R.Length > n + 1 || signature.S.Length > n + 1)
        {
            return false;
        }

        Span<byte> p1363 = stackalloc byte[2 * n];
        if (!CopyScalar(signature.R, p1363[..n]) || !CopyScalar(signature.S, p1363[n..]))
        {
            return false;
        }

        return _ecdsa!.VerifyData(message, p1363, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Left-pads a big-endian scalar to the field size; a leading zero beyond it is allowed, other excess is not.</summary>
    private static bool CopyScalar(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        while (value.Length > destination.Length)
        {
            if (value[0] != 0)
            {
                return false;
            }

            value = value[1..];
        }

        destination[..(destination.Length - value.Length)].Clear();
        value.CopyTo(destination[(destination.Length - value.Length)..]);
        return true;
    }

    private static byte[] LeftPad(byte[] value, int size)
    {
        if (value.Length == size)
        {
            return value;
        }

        if (value.Length > size)
        {
            throw new ArgumentException($"ECC coordinate of {value.Length} bytes exceeds the curve's {size}");
        }

        var r = new byte[size];
        value.CopyTo(r, size - value.Length);
        return r;
    }

    private static byte[] ExponentBytes(uint e)
    {
        Span<byte> b = [(byte)(e >> 24), (byte)(e >> 16), (byte)(e >> 8), (byte)e];
        var i = 0;
        while (i < 3 && b[i] == 0)
        {
            i++;
        }

        return b[i..].ToArray();
    }

    public void Dispose()
    {
        _rsa?.Dispose();
        _ecdsa?.Dispose();
    }
}
