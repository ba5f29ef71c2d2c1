namespace TrustPool.Audit.Merkle;

/// <summary>
/// An append-only RFC 9162 Merkle tree over an <see cref="IMerkleNodeStore"/> that keeps the hash of every
/// complete subtree. Append is O(log n) hashes worst case (amortised 2) and writes the nodes it completes, so
/// every inclusion and consistency proof is servable right after it; a proof reads O(log n) stored nodes and
/// hashes at most O(log n) more for the one incomplete ("ragged") subtree on the right edge.
/// Thread-safe: operations are serialised.
/// </summary>
public sealed class MerkleTree
{
    private const int MaxLevels = 64;

    private readonly Lock _lock = new();
    private readonly CompactRange _range;

    /// <summary>An empty tree in memory.</summary>
    public MerkleTree()
        : this(new InMemoryMerkleNodeStore(), 0)
    {
    }

    /// <summary>
    /// A tree over <paramref name="store"/> that already holds the nodes of <paramref name="size"/> leaves
    /// (for example read back from the database with the last tree head). Reads the right-edge subtrees.
    /// </summary>
    public MerkleTree(IMerkleNodeStore store, ulong size = 0)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        var ids = new List<MerkleNodeId>(MaxLevels);
        AddRangeNodes(0, size, ids);
        var hashes = new byte[ids.Count * MerkleHash.Size];
        if (!store.TryGetNodes(ids.ToArray(), hashes))
        {
            throw new InvalidOperationException($"the node store does not hold the right edge of a {size}-leaf tree");
        }

        _range = CompactRange.FromBorder(size, hashes);
    }

    /// <summary>The node store this tree writes to.</summary>
    public IMerkleNodeStore Store { get; }

    /// <summary>Number of leaves.</summary>
    public ulong Size
    {
        get
        {
            lock (_lock)
            {
                return _range.Size;
            }
        }
    }

    /// <summary>Appends SHA-256(0x00 || <paramref name="leafData"/>); returns the new leaf's index.</summary>
    public ulong Append(ReadOnlySpan<byte> leafData)
    {
        Span<byte> leaf = stackalloc byte[MerkleHash.Size];
        MerkleHash.LeafHash(leafData, leaf);
        return AppendLeafHash(leaf);
    }

    /// <summary>
    /// Appends a leaf hash (32 bytes); returns the new leaf's index. The leaf and the subtrees it completes go to
    /// the store in one <see cref="IMerkleNodeStore.PutNodes"/> call; if that throws, the tree is unchanged.
    /// </summary>
    public ulong AppendLeafHash(ReadOnlySpan<byte> leafHash)
    {
        Span<MerkleNodeId> ids = stackalloc MerkleNodeId[MaxLevels + 1];
        Span<byte> hashes = stackalloc byte[(MaxLevels + 1) * MerkleHash.Size];
        lock (_lock)
        {
            var index = _range.Size;
            var n = _range.PlanAppend(leafHash, ids, hashes);
            Store.PutNodes(ids[..n], hashes[..(n * MerkleHash.Size)]);
            _range.CommitAppend(ids[n - 1].Level, hashes.Slice((n - 1) * MerkleHash.Size, MerkleHash.Size));
            return index;
        }
    }

    /// <summary>The current root hash (RFC 9162 2.1.1 MTH).</summary>
    public byte[] Root()
    {
        lock (_lock)
        {
            return _range.Root();
        }
    }

    /// <summary>The root hash the tree had at <paramref name="size"/> leaves (0 ≤ size ≤ <see cref="Size"/>).</summary>
    public byte[] RootAt(ulong size)
    {
        lock (_lock)
        {
            ThrowIfBeyond(size, nameof(size));
            if (size == _range.Size)
            {
                return _range.Root();
            }

            return size == 0 ? MerkleHash.EmptyRoot : RangeHashes([(0, size)])[0];
        }
    }

    /// <summary>Inclusion proof of leaf <paramref name="index"/> in the current tree.</summary>
    public byte[][] InclusionProof(ulong index)
    {
        lock (_lock)
        {
            return InclusionProof(index, _range.Size);
        }
    }

    /// <summary>
    /// RFC 9162 2.1.3.1 inclusion proof (PATH) of leaf <paramref name="index"/> in the tree of
    /// <paramref name="size"/> leaves, leaf to root. Requires index &lt; size ≤ <see cref="Size"/>.
    /// </summary>
    public byte[][] InclusionProof(ulong index, ulong size)
    {
        lock (_lock)
        {
            ThrowIfBeyond(size, nameof(size));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size, nameof(index));

            // PATH(m, D[n]): split D[n] at k, the largest power of two < n; recurse into the half holding m and
            // add the other half's MTH. Collected root-first, returned leaf-first.
            var ranges = new List<(ulong Start, ulong Count)>(MaxLevels);
            ulong start = 0, count = size;
            while (count > 1)
            {
                var k = LargestPowerOfTwoBelow(count);
                if (index - start < k)
                {
                    ranges.Add((start + k, count - k));
                    count = k;
                }
                else
                {
                    ranges.Add((start, k));
                    start += k;
                    count -= k;
                }
            }

            ranges.Reverse();
            return RangeHashes(ranges);
        }
    }

    /// <summary>
    /// RFC 9162 2.1.4.1 consistency proof (PROOF / SUBPROOF) between the trees of <paramref name="size1"/> and
    /// <paramref name="size2"/> leaves, leaf to root. Requires 0 &lt; size1 ≤ size2 ≤ <see cref="Size"/>; equal sizes
    /// give the empty proof.
    /// </summary>
    public byte[][] ConsistencyProof(ulong size1, ulong size2)
    {
        lock (_lock)
        {
            ThrowIfBeyond(size2, nameof(size2));
            ArgumentOutOfRangeException.ThrowIfZero(size1, nameof(size1));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(size1, size2, nameof(size1));

            // SUBPROOF(m, D[n], b): m == n → [] if b (the verifier knows that root) else [MTH(D[n])];
            // m ≤ k → SUBPROOF(m, D[0:k], b) : MTH(D[k:n]); m > k → SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]).
            var ranges = new List<(ulong Start, ulong Count)>(MaxLevels);
            ulong start = 0, count = size2, m = size1;
            var known = true;
            while (m != count)
            {
                var k = LargestPowerOfTwoBelow(count);
                if (m <= k)
                {
                    ranges.Add((start + k, count - k));
                    count = k;
                }
                else
                {
                    ranges.Add((start, k));
                    start += k;
                    count -= k;
                    m -= k;
                    known = false;
                }
            }

            if (!known)
            {
                ranges.Add((start, count));
            }

            ranges.Reverse();
            return RangeHashes(ranges);
        }
    }

    /// <summary>
    /// MTH of each leaf range. Every range that RFC 9162 recursion produces starts at a multiple of a power of
    /// two at least its length, so it is the left-to-right run of perfect subtrees given by the set bits of its
    /// length: read them all from the store in one call, then fold each run from the right.
    /// </summary>
    private byte[][] RangeHashes(IReadOnlyList<(ulong Start, ulong Count)> ranges)
    {
        var ids = new List<MerkleNodeId>(ranges.Count * 2);
        var firsts = new int[ranges.Count + 1];
        for (var r = 0; r < ranges.Count; r++)
        {
            firsts[r] = ids.Count;
            AddRangeNodes(ranges[r].Start, ranges[r].Count, ids);
        }

        firsts[ranges.Count] = ids.Count;
        var nodes = new byte[ids.Count * MerkleHash.Size];
        if (!Store.TryGetNodes(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids), nodes))
        {
            throw new InvalidOperationException("the node store is missing a node of a complete subtree");
        }

        var result = new byte[ranges.Count][];
        for (var r = 0; r < ranges.Count; r++)
        {
            var last = firsts[r + 1] - 1;
            var acc = nodes.AsSpan(last * MerkleHash.Size, MerkleHash.Size).ToArray();
            for (var i = last - 1; i >= firsts[r]; i--)
            {
                MerkleHash.NodeHash(nodes.AsSpan(i * MerkleHash.Size, MerkleHash.Size), acc, acc);
            }

            result[r] = acc;
        }

        return result;
    }

    /// <summary>The perfect subtrees covering [start, start + count), highest (leftmost) first.</summary>
    private static void AddRangeNodes(ulong start, ulong count, List<MerkleNodeId> ids)
    {
        var offset = start;
        for (var level = MaxLevels - 1; level >= 0; level--)
        {
            if ((count >> level & 1) != 0)
            {
                System.Diagnostics.Debug.Assert(offset % (1UL << level) == 0, "range not aligned");
                ids.Add(new MerkleNodeId(level, offset >> level));
                offset += 1UL << level;
            }
        }
    }

    private static ulong LargestPowerOfTwoBelow(ulong n) => 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(n - 1));

    private void ThrowIfBeyond(ulong size, string name)
    {
        if (size > _range.Size)
        {
            throw new ArgumentOutOfRangeException(name, size, $"the tree has {_range.Size} leaves");
        }
    }
}
