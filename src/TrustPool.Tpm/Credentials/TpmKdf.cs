using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TrustPool.Tpm.Credentials;

/// <summary>
/// The two key derivation functions of TPM 2.0 Part 1, 11.4.10. Labels are ASCII and are used with their
/// terminating zero, as the TPM does ("STORAGE" is hashed as the 8 bytes <c>STORAGE\0</c>).
/// When the requested bit count is not a multiple of 8, the unused high-order bits of the first byte are cleared.
/// </summary>
public static class TpmKdf
{
    /// <summary>
    /// KDFa (Part 1, 11.4.10.2): SP 800-108 counter mode with HMAC(nameAlg):
    /// K_i = HMAC(key, [i]_32 || label || 0x00 || contextU || contextV || [bits]_32).
    /// </summary>
    public static byte[] KdfA(TpmAlgorithmId hashAlg, ReadOnlySpan<byte> key, string label, ReadOnlySpan<byte> contextU,
        ReadOnlySpan<byte> contextV, int bits)
    {
        var output = AllocateOutput(bits);
        var labelBytes = LabelBytes(label);
        using var hmac = IncrementalHash.CreateHMAC(TpmHash.ToHashAlgorithmName(hashAlg), key);
        Span<byte> u32 = stackalloc byte[4];
        Span<byte> block = stackalloc byte[TpmHash.DigestSize(hashAlg)];
        var written = 0;
        for (uint counter = 1; written < output.Length; counter++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(u32, counter);
            hmac.AppendData(u32);
            hmac.AppendData(labelBytes);
            hmac.AppendData(contextU);
            hmac.AppendData(contextV);
            BinaryPrimitives.WriteUInt32BigEndian(u32, (uint)bits);
            hmac.AppendData(u32);
            hmac.GetHashAndReset(block);
            written += Take(block, output.AsSpan(written));
        }

        MaskLeadingBits(output, bits);
        return output;
    }

    /// <summary>
    /// KDFe (Part 1, 11.4.10.3): the SP 800-56A concatenation KDF with H(nameAlg):
    /// K_i = H([i]_32 || Z || label || 0x00 || partyUInfo || partyVInfo). Unlike KDFa there is no length field.
    /// </summary>
    public static byte[] KdfE(TpmAlgorithmId hashAlg, ReadOnlySpan<byte> z, string label, ReadOnlySpan<byte> partyUInfo,
        ReadOnlySpan<byte> partyVInfo, int bits)
    {
        var output = AllocateOutput(bits);
        var labelBytes = LabelBytes(label);
        using var hash = IncrementalHash.CreateHash(TpmHash.ToHashAlgorithmName(hashAlg));
        Span<byte> u32 = stackalloc byte[4];
        Span<byte> block = stackalloc byte[TpmHash.DigestSize(hashAlg)];
        var written = 0;
        for (uint counter = 1; written < output.Length; counter++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(u32, counter);
            hash.AppendData(u32);
            hash.AppendData(z);
            hash.AppendData(labelBytes);
            hash.AppendData(partyUInfo);
            hash.AppendData(partyVInfo);
            hash.GetHashAndReset(block);
            written += Take(block, output.AsSpan(written));
        }

        MaskLeadingBits(output, bits);
        return output;
    }

    /// <summary>The label as the TPM uses it: ASCII with one terminating zero (not doubled when already present).</summary>
    internal static byte[] LabelBytes(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (label.Length > 0 && label[^1] == '\0')
        {
            return Encoding.ASCII.GetBytes(label);
        }

        var bytes = new byte[label.Length + 1];
        Encoding.ASCII.GetBytes(label, bytes);
        return bytes;
    }

    private static byte[] AllocateOutput(int bits)
    {
        // Part 1, 11.4.10.2: the TPM limits derived keys to what a TPM2B can carry.
        if (bits is <= 0 or > 8 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "must be 1..8192 bits");
        }

        return new byte[(bits + 7) / 8];
    }

    private static int Take(ReadOnlySpan<byte> block, Span<byte> destination)
    {
        var n = Math.Min(block.Length, destination.Length);
        block[..n].CopyTo(destination);
        return n;
    }

    private static void MaskLeadingBits(byte[] output, int bits)
    {
        if (bits % 8 != 0)
        {
            output[0] &= (byte)((1 << (bits % 8)) - 1);
        }
    }
}
