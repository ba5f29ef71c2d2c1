using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Structures;

/// <summary>TPMT_SYM_DEF_OBJECT (Part 2, 11.1.7): algorithm NULL, or AES with key bits and mode.</summary>
public readonly record struct TpmSymmetricDefinition(TpmAlgorithmId Algorithm, ushort KeyBits = 0, TpmAlgorithmId Mode = TpmAlgorithmId.Null)
{
    public static readonly TpmSymmetricDefinition Null = new(TpmAlgorithmId.Null);
    public static readonly TpmSymmetricDefinition Aes128Cfb = new(TpmAlgorithmId.Aes, 128, TpmAlgorithmId.Cfb);

    internal static TpmSymmetricDefinition Read(ref TpmReader r)
    {
        var alg = r.ReadAlgorithm("TPMT_SYM_DEF_OBJECT.algorithm");
        if (alg == TpmAlgorithmId.Null)
        {
            return Null;
        }

        // XOR uses a hash instead of key bits and no mode (Part 2, 11.1.3-11.1.6).
        var bits = r.ReadUInt16("TPMT_SYM_DEF_OBJECT.keyBits");
        var mode = alg == TpmAlgorithmId.Xor ? TpmAlgorithmId.Null : r.ReadAlgorithm("TPMT_SYM_DEF_OBJECT.mode");
        return new TpmSymmetricDefinition(alg, bits, mode);
    }

    internal void Write(TpmWriter w)
    {
        w.WriteAlgorithm(Algorithm);
        if (Algorithm != TpmAlgorithmId.Null)
        {
            w.WriteUInt16(KeyBits);
            if (Algorithm != TpmAlgorithmId.Xor)
            {
                w.WriteAlgorithm(Mode);
            }
        }
    }
}

/// <summary>A signing/encryption/KDF scheme: TPMT_RSA_SCHEME, TPMT_ECC_SCHEME or TPMT_KDF_SCHEME (Part 2, 11.2).</summary>
public readonly record struct TpmScheme(TpmAlgorithmId Scheme, TpmAlgorithmId HashAlg = TpmAlgorithmId.Null, ushort Count = 0)
{
    public static readonly TpmScheme Null = new(TpmAlgorithmId.Null);

    internal static TpmScheme Read(ref TpmReader r, string field)
    {
        var scheme = r.ReadAlgorithm(field + ".scheme");
        return scheme switch
        {
            TpmAlgorithmId.Null or TpmAlgorithmId.RsaEs => new TpmScheme(scheme),
            TpmAlgorithmId.EcDaa => new TpmScheme(scheme, r.ReadAlgorithm(field + ".details.hashAlg"), r.ReadUInt16(field + ".details.count")),
            _ => new TpmScheme(scheme, r.ReadAlgorithm(field + ".details.hashAlg")),
        };
    }

    internal void Write(TpmWriter w)
    {
        w.WriteAlgorithm(Scheme);
        if (Scheme is TpmAlgorithmId.Null or TpmAlgorithmId.RsaEs)
        {
            return;
        }

        w.WriteAlgorithm(HashAlg);
        if (Scheme == TpmAlgorithmId.EcDaa)
        {
            w.WriteUInt16(Count);
        }
    }
}

/// <summary>TPMS_RSA_PARMS and TPM2B_PUBLIC_KEY_RSA (Part 2, 12.2.3.5).</summary>
public sealed record RsaPublicParameters(TpmSymmetricDefinition Symmetric, TpmScheme Scheme, ushort KeyBits, uint Exponent, byte[] Modulus)
{
    /// <summary>An exponent of zero means the default, 2^16 + 1.</summary>
    public uint EffectiveExponent => Exponent == 0 ? 65537u : Exponent;
}

/// <summary>TPMS_ECC_PARMS and TPMS_ECC_POINT (Part 2, 12.2.3.6, 11.2.5.2).</summary>
public sealed record EccPublicParameters(TpmSymmetricDefinition Symmetric, TpmScheme Scheme, TpmEccCurve Curve, TpmScheme Kdf, byte[] X, byte[] Y);

/// <summary>
/// TPMT_PUBLIC (TPM 2.0 Part 2, 12.2.4) for RSA and ECC keys. Keeps the exact bytes it was read from,
/// because the object's Name is the hash of those bytes, not of a re-encoding.
/// </summary>
public sealed class TpmtPublic
{
    private byte[]? _name;

    public TpmtPublic(TpmAlgorithmId type, TpmAlgorithmId nameAlg, TpmObjectAttributes attributes, byte[] authPolicy,
        RsaPublicParameters? rsa, EccPublicParameters? ecc)
    {
        Type = type;
        NameAlg = nameAlg;
        ObjectAttributes = attributes;
        AuthPolicy = authPolicy;
        Rsa = rsa;
        Ecc = ecc;
        if ((type == TpmAlgorithmId.Rsa) != (rsa is not null) || (type == TpmAlgorithmId.Ecc) != (ecc is not null))
        {
            throw new ArgumentException("type must match the parameters given");
        }

        var w = new TpmWriter(rsa is null ? 128 : 320);
        WriteFields(w);
        Bytes = w.ToArray();
    }

    private TpmtPublic(TpmAlgorithmId type, TpmAlgorithmId nameAlg, TpmObjectAttributes attributes, byte[] authPolicy,
        RsaPublicParameters? rsa, EccPublicParameters? ecc, byte[] bytes)
    {
        Type = type;
        NameAlg = nameAlg;
        ObjectAttributes = attributes;
        AuthPolicy = authPolicy;
        Rsa = rsa;
        Ecc = ecc;
        Bytes = bytes;
    }

    public TpmAlgorithmId Type { get; }

    public TpmAlgorithmId NameAlg { get; }

    public TpmObjectAttributes ObjectAttributes { get; }

    public byte[] AuthPolicy { get; }

    public RsaPublicParameters? Rsa { get; }

    public EccPublicParameters? Ecc { get; }

    /// <summary>The marshalled TPMT_PUBLIC exactly as read (or as written by the constructor).</summary>
    public byte[] Bytes { get; }

    /// <summary>The scheme in the key's parameters (RSASSA, RSAPSS, ECDSA, ... or NULL).</summary>
    public TpmScheme Scheme => Rsa?.Scheme ?? Ecc?.Scheme ?? TpmScheme.Null;

    public TpmSymmetricDefinition Symmetric => Rsa?.Symmetric ?? Ecc?.Symmetric ?? TpmSymmetricDefinition.Null;

    /// <summary>The object's Name (Part 1, 16): nameAlg || H_nameAlg(TPMT_PUBLIC).</summary>
    public byte[] Name => _name ??= ComputeName();

    private byte[] ComputeName()
    {
        var size = TpmHash.DigestSize(NameAlg);
        if (size == 0 || !TpmHash.IsSupported(NameAlg))
        {
            throw new NotSupportedException($"nameAlg {NameAlg} is not supported");
        }

        var name = new byte[2 + size];
        name[0] = (byte)((ushort)NameAlg >> 8);
        name[1] = (byte)NameAlg;
        TpmHash.Hash(NameAlg, Bytes, name.AsSpan(2));
        return name;
    }

    /// <summary>TPM2B_PUBLIC: the 16-bit size then TPMT_PUBLIC.</summary>
    public byte[] ToTpm2b()
    {
        var w = new TpmWriter(Bytes.Length + 2);
        w.WriteSized(Bytes);
        return w.ToArray();
    }

    /// <summary>Parses a TPM2B_PUBLIC (with its size prefix), rejecting trailing bytes.</summary>
    public static TpmtPublic ParseTpm2b(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var p = ReadTpm2b(ref r);
        r.ThrowIfNotEmpty("TPM2B_PUBLIC");
        return p;
    }

    /// <summary>Parses a bare TPMT_PUBLIC (no size prefix), rejecting trailing bytes.</summary>
    public static TpmtPublic Parse(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var p = Read(ref r);
        r.ThrowIfNotEmpty("TPMT_PUBLIC");
        return p;
    }

    /// <summary>Accepts either encoding: TPM2B_PUBLIC when the first two bytes equal the remaining length.</summary>
    public static TpmtPublic ParseEither(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2 && ((bytes[0] << 8) | bytes[1]) == bytes.Length - 2)
        {
            return ParseTpm2b(bytes);
        }

        return Parse(bytes);
    }

    public static TpmtPublic ReadTpm2b(ref TpmReader r)
    {
        var inner = r.ReadSized("TPM2B_PUBLIC", TpmLimits.MaxStructureSize);
        var p = Read(ref inner);
        inner.ThrowIfNotEmpty("TPM2B_PUBLIC.publicArea");
        return p;
    }

    public static TpmtPublic Read(ref TpmReader r)
    {
        var start = r;
        var typeAt = r.Offset;
        var type = r.ReadAlgorithm("TPMT_PUBLIC.type");
        var nameAlg = r.ReadAlgorithm("TPMT_PUBLIC.nameAlg");
        var attrs = (TpmObjectAttributes)r.ReadUInt32("TPMT_PUBLIC.objectAttributes");
        var policy = r.ReadSizedBytes("TPMT_PUBLIC.authPolicy", TpmLimits.MaxDigestSize).ToArray();
        RsaPublicParameters? rsa = null;
        EccPublicParameters? ecc = null;
        switch (type)
        {
            case TpmAlgorithmId.Rsa:
            {
                var sym = TpmSymmetricDefinition.Read(ref r);
                var scheme = TpmScheme.Read(ref r, "TPMS_RSA_PARMS.scheme");
                var bits = r.ReadUInt16("TPMS_RSA_PARMS.keyBits");
                var exp = r.ReadUInt32("TPMS_RSA_PARMS.exponent");
                var n = r.ReadSizedBytes("TPMT_PUBLIC.unique.rsa", TpmLimits.MaxRsaKeyBytes).ToArray();
                rsa = new RsaPublicParameters(sym, scheme, bits, exp, n);
                break;
            }

            case TpmAlgorithmId.Ecc:
            {
                var sym = TpmSymmetricDefinition.Read(ref r);
                var scheme = TpmScheme.Read(ref r, "TPMS_ECC_PARMS.scheme");
                var curve = (TpmEccCurve)r.ReadUInt16("TPMS_ECC_PARMS.curveID");
                var kdf = TpmScheme.Read(ref r, "TPMS_ECC_PARMS.kdf");
                var x = r.ReadSizedBytes("TPMT_PUBLIC.unique.ecc.x", TpmLimits.MaxEccKeyBytes).ToArray();
                var y = r.ReadSizedBytes("TPMT_PUBLIC.unique.ecc.y", TpmLimits.MaxEccKeyBytes).ToArray();
                ecc = new EccPublicParameters(sym, scheme, curve, kdf, x, y);
                break;
            }

            default:
                throw new TpmFormatException("TPMT_PUBLIC.type", typeAt, $"unsupported key type 0x{(ushort)type:x4} (RSA and ECC are supported)");
        }

        var consumed = start.Remaining - r.Remaining;
        var bytes = start.ReadBytes(consumed, "TPMT_PUBLIC").ToArray();
        return new TpmtPublic(type, nameAlg, attrs, policy, rsa, ecc, bytes);
    }

    private void WriteFields(TpmWriter w)
    {
        w.WriteAlgorithm(Type).WriteAlgorithm(NameAlg).WriteUInt32((uint)ObjectAttributes).WriteSized(AuthPolicy);
        if (Rsa is { } rsa)
        {
            rsa.Symmetric.Write(w);
            rsa.Scheme.Write(w);
            w.WriteUInt16(rsa.KeyBits).WriteUInt32(rsa.Exponent).WriteSized(rsa.Modulus);
        }
        else if (Ecc is { } ecc)
        {
            ecc.Symmetric.Write(w);
            ecc.Scheme.Write(w);
            w.WriteUInt16((ushort)ecc.Curve);
            ecc.Kdf.Write(w);
            w.WriteSized(ecc.X).WriteSized(ecc.Y);
        }
    }

    /// <summary>Writes the TPMT_PUBLIC bytes (unchanged from what was read).</summary>
    public void Write(TpmWriter w) => w.WriteBytes(Bytes);

    public override string ToString() =>
        $"{Type} nameAlg={NameAlg} attrs=0x{(uint)ObjectAttributes:x8} ({ObjectAttributes}) scheme={Scheme.Scheme}/{Scheme.HashAlg}" +
        (Ecc is { } e ? $" curve={e.Curve}" : Rsa is { } r ? $" bits={r.KeyBits}" : "");
}
