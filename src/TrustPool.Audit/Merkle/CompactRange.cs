namespace TrustPool.Audit.Merkle;

/// <summary>
/// The compact range [0, Size) of a log (transparency-dev <c>compact.Range</c>): only the roots of the perfect
/// subtrees along the right edge, one per set bit of Size, so at most 64 hashes whatever the log's size.
/// Enough to append and to compute the root in O(log n); not enough for proofs (see <see cref="MerkleTree"/>).
/// This is what a verifier replaying an export needs: stream the leaf hashes in, compare <see cref="Root()"/>.
/// </summary>
public sealed class CompactRange
{
    private const int MaxLevels = 64;

    // _border[level] holds the root of the perfect subtree of 2^level leaves when bit `level` of Size is set.
    private readonly byte[] _border = new byte[MaxLevels * MerkleHash.Size];

    /// <summary>Number of leaves appended.</summary>
    public ulong Size { get; private set; }

    /// <summary>Appends one leaf hash (32 bytes: already SHA-256(0x00 || data)).</summary>
    public void Append(ReadOnlySpan<byte> leafHash)
    {
        Span<MerkleNodeId> ids = stackalloc MerkleNodeId[MaxLevels + 1];
        Span<byte> hashes = stackalloc byte[(MaxLevels + 1) * MerkleHash.Size];
        var n = PlanAppend(leafHash, ids, hashes);
        CommitAppend(ids[n - 1].Level, hashes.Slice((n - 1) * MerkleHash.Size, MerkleHash.Size));
    }

    /// <summary>Appends SHA-256(0x00 || data).</summary>
    public void AppendLeafData(ReadOnlySpan<byte> data)
    {
        Span<byte> leaf = stackalloc byte[MerkleHash.Size];
        MerkleHash.LeafHash(data, leaf);
        Append(leaf);
    }

    /// <summary>The root hash of the Size leaves appended (RFC 9162 MTH); the empty-tree hash when none.</summary>
    public byte[] Root()
    {
        var root = new byte[MerkleHash.Size];
        Root(root);
        return root;
    }

    /// <summary>Writes the root hash to <paramref name="destination"/> (32 bytes).</summary>
    public void Root(Span<byte> destination)
    {
        if (Size == 0)
        {
            MerkleHash.EmptyRoot.CopyTo(destination);
            return;
        }

        // MTH splits at the largest power of two, so the right edge folds from the smallest subtree up:
        // root = H(b_high, H(..., H(b_2, b_1))).
        var level = System.Numerics.BitOperations.TrailingZeroCount(Size);
        Span<byte> acc = stackalloc byte[MerkleHash.Size];
        Border(level).CopyTo(acc);
        for (level++; level < MaxLevels; level++)
        {
            if ((Size >> level & 1) != 0)
            {
                MerkleHash.NodeHash(Border(level), acc, acc);
            }
        }

        acc.CopyTo(destination);
    }

    /// <summary>
    /// Computes, without changing the range, the nodes that appending <paramref name="leafHash"/> creates: the
    /// leaf itself, then every subtree it completes, lowest first. Returns how many were written to
    /// <paramref name="ids"/> / <paramref name="hashes"/>.
    /// </summary>
    internal int PlanAppend(ReadOnlySpan<byte> leafHash, Span<MerkleNodeId> ids, Span<byte> hashes)
    {
        if (leafHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"a leaf hash is {MerkleHash.Size} bytes, not {leafHash.Length}", nameof(leafHash));
        }

        if (Size == ulong.MaxValue)
        {
            throw new InvalidOperationException("the log is full (2^64 - 1 leaves)");
        }

        var index = Size;
        var level = 0;
        var n = 0;
        leafHash.CopyTo(hashes[..MerkleHash.Size]);
        ids[n++] = new MerkleNodeId(0, index);
        // A node with an odd index is a right child: its left sibling is the border subtree of the same level.
        while ((index & 1) != 0)
        {
            MerkleHash.NodeHash(Border(level), hashes.Slice((n - 1) * MerkleHash.Size, MerkleHash.Size),
                hashes.Slice(n * MerkleHash.Size, MerkleHash.Size));
            index >>= 1;
            level++;
            ids[n++] = new MerkleNodeId(level, index);
        }

        return n;
    }

    /// <summary>Makes the last node of a <see cref="PlanAppend"/> the new border subtree of its level.</summary>
    internal void CommitAppend(int topLevel, ReadOnlySpan<byte> topHash)
    {
        topHash.CopyTo(_border.AsSpan(topLevel * MerkleHash.Size, MerkleHash.Size));
        Size++;
    }

    /// <summary>Restores a range from the border subtrees of [0, size), given from the highest level down.</summary>
    internal static CompactRange FromBorder(ulong size, ReadOnlySpan<byte> hashesHighToLow)
    {
        var range = new CompactRange { Size = size };
        var i = 0;
        for (var level = MaxLevels - 1; level >= 0; level--)
        {
            if ((size >> level & 1) != 0)
            {
                hashesHighToLow.Slice(i++ * MerkleHash.Size, MerkleHash.Size).CopyTo(range._border.AsSpan(level * MerkleHash.Size));
            }
        }

        return range;
    }

    private ReadOnlySpan<byte> Border(int level) => _border.AsSpan(level * MerkleHash.Size, MerkleHash.Size);
}
