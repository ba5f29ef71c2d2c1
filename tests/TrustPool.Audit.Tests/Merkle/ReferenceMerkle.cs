using TrustPool.Audit.Merkle;

namespace TrustPool.Audit.Tests.Merkle;

/// <summary>
/// The recursive definitions of RFC 6962 2.1 (MTH), 2.1.1 (PATH) and 2.1.2 (PROOF / SUBPROOF), written as
/// literally as possible over a list of leaf hashes: the oracle the O(log n) tree is compared with.
/// </summary>
internal static class ReferenceMerkle
{
    public static byte[] Mth(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        if (count == 0)
        {
            return MerkleHash.EmptyRoot;
        }

        if (count == 1)
        {
            return leaves[start];
        }

        var k = Split(count);
        return MerkleHash.NodeHash(Mth(leaves, start, k), Mth(leaves, start + k, count - k));
    }

    public static List<byte[]> Path(IReadOnlyList<byte[]> leaves, int m, int start, int count)
    {
        if (count == 1)
        {
            return [];
        }

        var k = Split(count);
        if (m < k)
        {
            var p = Path(leaves, m, start, k);
            p.Add(Mth(leaves, start + k, count - k));
            return p;
        }

        var q = Path(leaves, m - k, start + k, count - k);
        q.Add(Mth(leaves, start, k));
        return q;
    }

    public static List<byte[]> Proof(IReadOnlyList<byte[]> leaves, int m, int n) => SubProof(leaves, m, 0, n, true);

    private static List<byte[]> SubProof(IReadOnlyList<byte[]> leaves, int m, int start, int count, bool b)
    {
        if (m == count)
        {
            return b ? [] : [Mth(leaves, start, count)];
        }

        var k = Split(count);
        if (m <= k)
        {
            var p = SubProof(leaves, m, start, k, b);
            p.Add(Mth(leaves, start + k, count - k));
            return p;
        }

        var q = SubProof(leaves, m - k, start + k, count - k, false);
        q.Add(Mth(leaves, start, k));
        return q;
    }

    /// <summary>The largest power of two smaller than n (n &gt; 1).</summary>
    private static int Split(int n)
    {
        var k = 1;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }
}
