using System.Buffers.Binary;
using System.Numerics;

namespace TrustPool.Evidence.Replay;

/// <summary>
/// SM3 (GB/T 32905-2016; TPM_ALG_SM3_256): .NET has no implementation, and PCR banks of Chinese
/// platforms (e.g. the Hygon H-CRTM log in the corpus) use it. Only used to replay such banks.
/// </summary>
internal static class Sm3
{
    public const int DigestSize = 32;

    private static readonly uint[] s_iv =
        [0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E];

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<uint> v = stackalloc uint[8];
        s_iv.CopyTo(v);
        Span<uint> w = stackalloc uint[68];
        var full = data.Length / 64;
        for (var i = 0; i < full; i++)
        {
            Compress(v, data.Slice(i * 64, 64), w);
        }

        // Padding: 0x80, zeros, 64-bit big-endian bit length (as SHA-256).
        Span<byte> tail = stackalloc byte[128];
        tail.Clear();
        var rest = data[(full * 64)..];
        rest.CopyTo(tail);
        tail[rest.Length] = 0x80;
        var blocks = rest.Length + 9 <= 64 ? 1 : 2;
        BinaryPrimitives.WriteUInt64BigEndian(tail[((blocks * 64) - 8)..], (ulong)data.Length * 8);
        for (var i = 0; i < blocks; i++)
        {
            Compress(v, tail.Slice(i * 64, 64), w);
        }

        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(i * 4)..], v[i]);
        }
    }

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var result = new byte[DigestSize];
        Hash(data, result);
        return result;
    }

    private static uint P0(uint x) => x ^ BitOperations.RotateLeft(x, 9) ^ BitOperations.RotateLeft(x, 17);

    private static uint P1(uint x) => x ^ BitOperations.RotateLeft(x, 15) ^ BitOperations.RotateLeft(x, 23);

    private static void Compress(Span<uint> v, ReadOnlySpan<byte> block, Span<uint> w)
    {
        for (var j = 0; j < 16; j++)
        {
            w[j] = BinaryPrimitives.ReadUInt32BigEndian(block[(j * 4)..]);
        }

        for (var j = 16; j < 68; j++)
        {
            w[j] = P1(w[j - 16] ^ w[j - 9] ^ BitOperations.RotateLeft(w[j - 3], 15)) ^ BitOperations.RotateLeft(w[j - 13], 7) ^ w[j - 6];
        }

        uint a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
        for (var j = 0; j < 64; j++)
        {
            var t = j < 16 ? 0x79CC4519u : 0x7A879D8Au;
            var a12 = BitOperations.RotateLeft(a, 12);
            var ss1 = BitOperations.RotateLeft(a12 + e + BitOperations.RotateLeft(t, j % 32), 7);
            var ss2 = ss1 ^ a12;
            var ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
            var gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
            var tt1 = ff + d + ss2 + (w[j] ^ w[j + 4]);
            var tt2 = gg + h + ss1 + w[j];
            d = c;
            c = BitOperations.RotateLeft(b, 9);
            b = a;
            a = tt1;
            h = g;
            g = BitOperations.RotateLeft(f, 19);
            f = e;
            e = P0(tt2);
        }

        v[0] ^= a;
        v[1] ^= b;
        v[2] ^= c;
        v[3] ^= d;
        v[4] ^= e;
        v[5] ^= f;
        v[6] ^= g;
        v[7] ^= h;
    }
}
