using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Structures;

/// <summary>TPMT_HA (TPM 2.0 Part 2, 10.3.2): a digest tagged with its algorithm.</summary>
public sealed record TpmtHa(TpmAlgorithmId HashAlg, byte[] Digest)
{
    public static TpmtHa Read(ref TpmReader r)
    {
        var at = r.Offset;
        var alg = r.ReadAlgorithm("TPMT_HA.hashAlg");
        var size = TpmHash.DigestSize(alg);
        if (size == 0)
        {
            throw new TpmFormatException("TPMT_HA.hashAlg", at, $"unknown hash algorithm 0x{(ushort)alg:x4}");
        }

        return new TpmtHa(alg, r.ReadBytes(size, "TPMT_HA.digest").ToArray());
    }

    public void Write(TpmWriter w)
    {
        if (Digest.Length != TpmHash.DigestSize(HashAlg))
        {
            throw new InvalidOperationException($"{HashAlg} digest must have {TpmHash.DigestSize(HashAlg)} bytes");
        }

        w.WriteAlgorithm(HashAlg).WriteBytes(Digest);
    }

    public bool Equals(TpmtHa? other) => other is not null && other.HashAlg == HashAlg && other.Digest.AsSpan().SequenceEqual(Digest);

    public override int GetHashCode() => HashCode.Combine(HashAlg, Digest.Length > 0 ? Digest[0] : 0);
}

/// <summary>TPML_DIGEST (TPM 2.0 Part 2, 10.9.2): up to 8 TPM2B_DIGEST values.</summary>
public static class TpmlDigest
{
    public static byte[][] Read(ref TpmReader r)
    {
        var at = r.Offset;
        var count = r.ReadUInt32("TPML_DIGEST.count");
        if (count > TpmLimits.MaxDigestsInList)
        {
            throw new TpmFormatException("TPML_DIGEST.count", at, $"{count} exceeds {TpmLimits.MaxDigestsInList}");
        }

        var result = new byte[count][];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = r.ReadSizedBytes("TPML_DIGEST.digests", TpmLimits.MaxDigestSize).ToArray();
        }

        return result;
    }

    public static void Write(TpmWriter w, IReadOnlyList<byte[]> digests)
    {
        if (digests.Count > TpmLimits.MaxDigestsInList)
        {
            throw new ArgumentException($"TPML_DIGEST holds at most {TpmLimits.MaxDigestsInList} digests", nameof(digests));
        }

        w.WriteUInt32((uint)digests.Count);
        foreach (var d in digests)
        {
            w.WriteSized(d);
        }
    }
}
