using System.Buffers.Binary;
using CsCheck;

namespace TrustPool.Evidence.Tests;

/// <summary>One damage done to a corpus file.</summary>
public readonly record struct Mutation(int Kind, int Position, uint Value)
{
    public override string ToString() => Kind switch
    {
        0 => $"truncate at {Position}",
        1 => $"flip bit {Value % 8} at {Position}",
        2 => $"u32 0x{Value:x8} at {Position}",
        3 => $"u16 0x{Value & 0xFFFF:x4} at {Position}",
        _ => $"u64 high 0x{Value:x8} at {Position}",
    };
}

/// <summary>
/// Property-test driver: CsCheck generators sampled from a fixed PCG seed, a bounded number of times,
/// so the run is the same on every machine. Only <see cref="EventLogFormatException"/> may escape the
/// parser; it must carry an offset inside the input; no step may allocate far beyond the input size.
/// </summary>
public static class Fuzz
{
    /// <summary>Absurd values for counts and sizes.</summary>
    private static readonly uint[] s_absurd = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFF, 0x10000, 0x00FFFFFF];

    public static Gen<Mutation> For(int length) =>
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, Math.Max(0, length - 1)], Gen.Int[0, s_absurd.Length - 1], Gen.UInt,
            (kind, pos, absurd, random) => new Mutation(kind, pos, kind == 1 ? random : (random & 1) == 0 ? s_absurd[absurd] : random));

    public static byte[] Apply(byte[] original, IEnumerable<Mutation> mutations)
    {
        var bytes = (byte[])original.Clone();
        foreach (var m in mutations)
        {
            if (bytes.Length == 0)
            {
                break;
            }

            var pos = m.Position % bytes.Length;
            switch (m.Kind)
            {
                case 0:
                    bytes = bytes[..pos];
                    break;
                case 1:
                    bytes[pos] ^= (byte)(1 << (int)(m.Value % 8));
                    break;
                case 2 when pos + 4 <= bytes.Length:
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(pos), m.Value);
                    break;
                case 3 when pos + 2 <= bytes.Length:
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(pos), (ushort)m.Value);
                    break;
                case 4 when pos + 8 <= bytes.Length:
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(pos), (ulong)m.Value << 32 | m.Value);
                    break;
            }
        }

        return bytes;
    }

    /// <summary>
    /// Runs <paramref name="parse"/> on <paramref name="iterations"/> mutated copies (1-3 mutations each).
    /// </summary>
    public static void Run(string name, byte[] original, int iterations, Action<byte[]> parse, ulong seed = 0x5EED_7257_0001)
    {
        var pcg = new PCG(1, seed ^ (ulong)(uint)StableHash(name));
        var gen = Gen.Select(Gen.Int[1, 3], For(original.Length).Array[3], (n, ms) => ms.Take(n).ToArray());
        for (var i = 0; i < iterations; i++)
        {
            var mutations = gen.Generate(pcg, null, out _);
            var input = Apply(original, mutations);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                parse(input);
            }
            catch (EventLogFormatException ex)
            {
                Assert.True(ex.Offset >= 0 && ex.Offset <= input.Length,
                    $"{name} iteration {i} ({string.Join(", ", mutations)}): offset {ex.Offset} outside 0..{input.Length}");
                Assert.Contains("offset", ex.Message, StringComparison.Ordinal);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{name} iteration {i} ({string.Join(", ", mutations)}): {ex.GetType().Name} escaped: {ex}");
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 64L * input.Length + (8 << 20),
                $"{name} iteration {i} ({string.Join(", ", mutations)}): allocated {allocated} bytes for {input.Length} bytes of input");
        }
    }

    private static int StableHash(string s)
    {
        var h = 17;
        foreach (var c in s)
        {
            h = unchecked(h * 31 + c);
        }

        return h;
    }
}
