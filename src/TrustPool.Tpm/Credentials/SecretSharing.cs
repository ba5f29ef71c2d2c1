using System.Numerics;
using System.Security.Cryptography;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Credentials;

/// <summary>
/// Secret sharing with a TPM key (TPM 2.0 Part 1, 11.4.10.4 / Annex B.10 and C.6): a seed of nameAlg digest size
/// that only the holder of the private key can recover, labelled by its use ("IDENTITY", "DUPLICATE", "SECRET").
/// RSA: EME-OAEP (RFC 8017, 7.1) with hash = nameAlg and the label including its terminating zero.
/// ECC: one-pass ECDH with an ephemeral key on the key's curve; seed = KDFe(nameAlg, Z.x, label, Qe.x, Qs.x).
/// </summary>
public static class SecretSharing
{
    /// <summary>Creates a fresh seed for <paramref name="key"/>; returns it with its TPM2B_ENCRYPTED_SECRET contents.</summary>
    public static (byte[] Seed, byte[] EncryptedSecret) Create(TpmtPublic key, string label)
    {
        ArgumentNullException.ThrowIfNull(key);
        var size = DigestSizeOf(key);
        switch (key.Type)
        {
            case TpmAlgorithmId.Rsa:
            {
                var seed = RandomNumberGenerator.GetBytes(size);
                var oaepSeed = RandomNumberGenerator.GetBytes(size);
                return (seed, RsaEncrypt(key, label, seed, oaepSeed));
            }

            case TpmAlgorithmId.Ecc:
            {
                using var ephemeral = ECDiffieHellman.Create(CurveOf(key.Ecc!.Curve));
                return EcdhCreate(key, label, ephemeral.ExportParameters(includePrivateParameters: true));
            }

            default:
                throw new NotSupportedException($"secret sharing with a {key.Type} key");
        }
    }

    /// <summary>
    /// RSA secret sharing with a given OAEP seed (derandomized for known-answer tests):
    /// RSAEP(n, e, EME-OAEP(nameAlg, label, secret)) as a big-endian integer of the modulus length.
    /// </summary>
    internal static byte[] RsaEncrypt(TpmtPublic key, string label, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> oaepSeed)
    {
        var rsa = key.Rsa ?? throw new ArgumentException("not an RSA key", nameof(key));
        var k = rsa.Modulus.Length;

        // The key comes from an untrusted host: insist on a plausible modulus (1024..4096 bits, odd, no leading zero).
        if (k is < 128 or > TpmLimits.MaxRsaKeyBytes || rsa.Modulus[0] == 0 || (rsa.Modulus[^1] & 1) == 0 || rsa.KeyBits != 8 * k)
        {
            throw new ArgumentException($"the RSA public key is not usable: modulus of {k} bytes for keyBits {rsa.KeyBits}", nameof(key));
        }

        var em = Oaep.Encode(key.NameAlg, TpmKdf.LabelBytes(label), secret, oaepSeed, k);
        var n = new BigInteger(rsa.Modulus, isUnsigned: true, isBigEndian: true);
        var m = new BigInteger(em, isUnsigned: true, isBigEndian: true);
        return ToFixedBytes(BigInteger.ModPow(m, rsa.EffectiveExponent, n), k);
    }

    /// <summary>
    /// ECC secret sharing with a given ephemeral key pair (D and Q; derandomized for known-answer tests).
    /// The encrypted secret is the marshalled TPMS_ECC_POINT of the ephemeral public key.
    /// </summary>
    internal static (byte[] Seed, byte[] EncryptedSecret) EcdhCreate(TpmtPublic key, string label, ECParameters ephemeral)
    {
        var ecc = key.Ecc ?? throw new ArgumentException("not an ECC key", nameof(key));
        var coordinateSize = CoordinateSize(ecc.Curve);
        if (ecc.X.Length > coordinateSize || ecc.Y.Length > coordinateSize)
        {
            throw new ArgumentException("the ECC public key's coordinates are larger than its curve", nameof(key));
        }

        byte[] z;
        try
        {
            using var peer = ImportPublic(ecc.Curve, ecc.X, ecc.Y, coordinateSize);
            using var mine = ECDiffieHellman.Create(ephemeral);
            z = mine.DeriveRawSecretAgreement(peer.PublicKey);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException("the ECC public key is not a valid point on its curve", nameof(key), e);
        }

        var ex = Pad(ephemeral.Q.X!, coordinateSize);
        var ey = Pad(ephemeral.Q.Y!, coordinateSize);
        var seed = TpmKdf.KdfE(key.NameAlg, z, label, ex, Pad(ecc.X, coordinateSize), 8 * DigestSizeOf(key));
        CryptographicOperations.ZeroMemory(z);
        var w = new TpmWriter(4 + 2 * coordinateSize);
        w.WriteSized(ex).WriteSized(ey);
        return (seed, w.ToArray());
    }

    /// <summary>
    /// Recovers the seed with the private RSA key (TPM side of secret sharing). Throws <see cref="CredentialException"/>
    /// for anything that is not a valid encryption of a nameAlg-sized seed under this key and label.
    /// </summary>
    /// <remarks>Uses BigInteger arithmetic (not constant time): adequate for the software TPM, which is a simulator.</remarks>
    public static byte[] RsaRecover(TpmtPublic key, RSAParameters privateKey, string label, ReadOnlySpan<byte> encryptedSecret)
    {
        var rsa = key.Rsa ?? throw new ArgumentException("not an RSA key", nameof(key));
        var k = rsa.Modulus.Length;
        if (encryptedSecret.Length != k)
        {
            throw new CredentialException(CredentialFailure.Malformed, $"encrypted secret has {encryptedSecret.Length} bytes, the RSA modulus {k}");
        }

        var n = new BigInteger(rsa.Modulus, isUnsigned: true, isBigEndian: true);
        var c = new BigInteger(encryptedSecret, isUnsigned: true, isBigEndian: true);
        if (c >= n)
        {
            throw new CredentialException(CredentialFailure.SecretRejected, "encrypted secret is not smaller than the RSA modulus");
        }

        var em = ToFixedBytes(RsaPrivate(c, privateKey), k);
        var seed = Oaep.Decode(key.NameAlg, TpmKdf.LabelBytes(label), em)
            ?? throw new CredentialException(CredentialFailure.SecretRejected, "encrypted secret does not decrypt under this key (OAEP decoding failed)");
        if (seed.Length != DigestSizeOf(key))
        {
            throw new CredentialException(CredentialFailure.SecretRejected, $"decrypted seed has {seed.Length} bytes, not the nameAlg digest size");
        }

        return seed;
    }

    /// <summary>Recovers the seed with the private ECC key from the ephemeral point in <paramref name="encryptedSecret"/>.</summary>
    public static byte[] EcdhRecover(TpmtPublic key, ECDiffieHellman privateKey, string label, ReadOnlySpan<byte> encryptedSecret)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        var ecc = key.Ecc ?? throw new ArgumentException("not an ECC key", nameof(key));
        var coordinateSize = CoordinateSize(ecc.Curve);
        byte[] ex, ey;
        try
        {
            var r = new TpmReader(encryptedSecret);
            ex = r.ReadSizedBytes("TPMS_ECC_POINT.x", TpmLimits.MaxEccKeyBytes).ToArray();
            ey = r.ReadSizedBytes("TPMS_ECC_POINT.y", TpmLimits.MaxEccKeyBytes).ToArray();
            r.ThrowIfNotEmpty("TPMS_ECC_POINT");
        }
        catch (TpmFormatException e)
        {
            throw new CredentialException(CredentialFailure.Malformed, "encrypted secret is not a TPMS_ECC_POINT: " + e.Message, e);
        }

        if (ex.Length > coordinateSize || ey.Length > coordinateSize)
        {
            throw new CredentialException(CredentialFailure.Malformed, "ephemeral point coordinates are larger than the curve");
        }

        byte[] z;
        try
        {
            using var peer = ImportPublic(ecc.Curve, ex, ey, coordinateSize);
            z = privateKey.DeriveRawSecretAgreement(peer.PublicKey);
        }
        catch (CryptographicException e)
        {
            throw new CredentialException(CredentialFailure.SecretRejected, "ephemeral point is not a valid point on the EK's curve", e);
        }

        var seed = TpmKdf.KdfE(key.NameAlg, z, label, Pad(ex, coordinateSize), Pad(ecc.X, coordinateSize), 8 * DigestSizeOf(key));
        CryptographicOperations.ZeroMemory(z);
        return seed;
    }

    internal static ECCurve CurveOf(TpmEccCurve curve) => curve switch
    {
        TpmEccCurve.NistP256 => ECCurve.NamedCurves.nistP256,
        TpmEccCurve.NistP384 => ECCurve.NamedCurves.nistP384,
        TpmEccCurve.NistP521 => ECCurve.NamedCurves.nistP521,
        _ => throw new NotSupportedException($"ECC curve {curve}"),
    };

    internal static int CoordinateSize(TpmEccCurve curve) => curve switch
    {
        TpmEccCurve.NistP256 => 32,
        TpmEccCurve.NistP384 => 48,
        TpmEccCurve.NistP521 => 66,
        _ => throw new NotSupportedException($"ECC curve {curve}"),
    };

    private static int DigestSizeOf(TpmtPublic key)
    {
        if (!TpmHash.IsSupported(key.NameAlg))
        {
            throw new NotSupportedException($"nameAlg {key.NameAlg}");
        }

        return TpmHash.DigestSize(key.NameAlg);
    }

    private static ECDiffieHellman ImportPublic(TpmEccCurve curve, byte[] x, byte[] y, int coordinateSize) =>
        ECDiffieHellman.Create(new ECParameters
        {
            Curve = CurveOf(curve),
            Q = new ECPoint { X = Pad(x, coordinateSize), Y = Pad(y, coordinateSize) },
        });

    /// <summary>Left-pads a big-endian coordinate to the curve size (TPMs may strip leading zeros).</summary>
    internal static byte[] Pad(byte[] value, int size)
    {
        if (value.Length >= size)
        {
            return value;
        }

        var padded = new byte[size];
        value.CopyTo(padded, size - value.Length);
        return padded;
    }

    private static BigInteger RsaPrivate(BigInteger c, RSAParameters p)
    {
        if (p.P is { } pb && p.Q is { } qb && p.DP is { } dpb && p.DQ is { } dqb && p.InverseQ is { } qib)
        {
            // CRT (RFC 8017, 5.1.2 step 2b).
            var pp = new BigInteger(pb, isUnsigned: true, isBigEndian: true);
            var qq = new BigInteger(qb, isUnsigned: true, isBigEndian: true);
            var m1 = BigInteger.ModPow(c % pp, new BigInteger(dpb, isUnsigned: true, isBigEndian: true), pp);
            var m2 = BigInteger.ModPow(c % qq, new BigInteger(dqb, isUnsigned: true, isBigEndian: true), qq);
            var h = (new BigInteger(qib, isUnsigned: true, isBigEndian: true) * (m1 - m2)) % pp;
            if (h.Sign < 0)
            {
                h += pp;
            }

            return m2 + (h * qq);
        }

        var d = p.D ?? throw new ArgumentException("RSA parameters carry no private key", nameof(p));
        return BigInteger.ModPow(c, new BigInteger(d, isUnsigned: true, isBigEndian: true),
            new BigInteger(p.Modulus!, isUnsigned: true, isBigEndian: true));
    }

    private static byte[] ToFixedBytes(BigInteger value, int size)
    {
        var result = new byte[size];
        var length = value.GetByteCount(isUnsigned: true);
        if (length > size || !value.TryWriteBytes(result.AsSpan(size - length), out _, isUnsigned: true, isBigEndian: true))
        {
            throw new CryptographicException("RSA result does not fit the modulus");
        }

        return result;
    }
}

/// <summary>EME-OAEP encoding and decoding (RFC 8017, 7.1.1 step 2 and 7.1.2 step 3) with MGF1 over the same hash.</summary>
internal static class Oaep
{
    public static byte[] Encode(TpmAlgorithmId hashAlg, ReadOnlySpan<byte> label, ReadOnlySpan<byte> message, ReadOnlySpan<byte> seed, int k)
    {
        var hLen = TpmHash.DigestSize(hashAlg);
        if (message.Length > k - (2 * hLen) - 2)
        {
            throw new ArgumentException($"message of {message.Length} bytes is too long for OAEP with a {k}-byte modulus", nameof(message));
        }

        if (seed.Length != hLen)
        {
            throw new ArgumentException($"OAEP seed must have {hLen} bytes", nameof(seed));
        }

        // EM = 0x00 || maskedSeed || maskedDB; DB = lHash || PS || 0x01 || M.
        var em = new byte[k];
        var db = em.AsSpan(1 + hLen);
        TpmHash.Hash(hashAlg, label, db[..hLen]);
        db[db.Length - message.Length - 1] = 0x01;
        message.CopyTo(db[^message.Length..]);
        var maskedSeed = em.AsSpan(1, hLen);
        seed.CopyTo(maskedSeed);
        XorMgf1(hashAlg, maskedSeed, db);
        XorMgf1(hashAlg, db, maskedSeed);
        return em;
    }

    /// <summary>Returns the message, or null when the encoding is invalid (one outcome for every kind of error).</summary>
    public static byte[]? Decode(TpmAlgorithmId hashAlg, ReadOnlySpan<byte> label, ReadOnlySpan<byte> encoded)
    {
        var hLen = TpmHash.DigestSize(hashAlg);
        var k = encoded.Length;
        if (k < (2 * hLen) + 2)
        {
            return null;
        }

        var em = encoded.ToArray();
        var maskedSeed = em.AsSpan(1, hLen);
        var db = em.AsSpan(1 + hLen);
        XorMgf1(hashAlg, db, maskedSeed);
        XorMgf1(hashAlg, maskedSeed, db);
        Span<byte> lHash = stackalloc byte[hLen];
        TpmHash.Hash(hashAlg, label, lHash);

        // Check Y == 0, lHash' == lHash and the 0x01 separator without an early exit on the first difference.
        var bad = em[0] != 0 ? 1 : 0;
        bad |= CryptographicOperations.FixedTimeEquals(lHash, db[..hLen]) ? 0 : 1;
        var separator = -1;
        for (var i = hLen; i < db.Length; i++)
        {
            var b = db[i];
            if (separator < 0 && b == 0x01)
            {
                separator = i;
            }
            else if (separator < 0 && b != 0x00)
            {
                bad = 1;
            }
        }

        if (bad != 0 || separator < 0)
        {
            CryptographicOperations.ZeroMemory(em);
            return null;
        }

        var message = db[(separator + 1)..].ToArray();
        CryptographicOperations.ZeroMemory(em);
        return message;
    }

    /// <summary>target ^= MGF1(seed, target.Length) (RFC 8017, B.2.1).</summary>
    private static void XorMgf1(TpmAlgorithmId hashAlg, ReadOnlySpan<byte> seed, Span<byte> target)
    {
        var hLen = TpmHash.DigestSize(hashAlg);
        using var hash = IncrementalHash.CreateHash(TpmHash.ToHashAlgorithmName(hashAlg));
        Span<byte> counter = stackalloc byte[4];
        Span<byte> block = stackalloc byte[hLen];
        for (uint c = 0, offset = 0; offset < target.Length; c++, offset += (uint)hLen)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(counter, c);
            hash.AppendData(seed);
            hash.AppendData(counter);
            hash.GetHashAndReset(block);
            var n = Math.Min(hLen, target.Length - (int)offset);
            for (var i = 0; i < n; i++)
            {
                target[(int)offset + i] ^= block[i];
            }
        }
    }
}
