namespace TrustPool.Audit.Merkle;

/// <summary>
/// <see cref="IMerkleNodeStore"/> in memory: one dense array per level, split into fixed-size chunks so growth
/// never copies. A log of n leaves holds about 2n hashes (64 bytes per leaf; 10M leaves = 640 MB). Not
/// thread-safe; <see cref="MerkleTree"/> serialises access.
/// </summary>
public sealed class InMemoryMerkleNodeStore : IMerkleNodeStore
{
    private const int ChunkShift = 15; // 32,768 hashes = 1 MiB per chunk
    private const int ChunkNodes = 1 << ChunkShift;
    private const int ChunkMask = ChunkNodes - 1;

    private readonly List<Level> _levels = [];

    /// <summary>Number of nodes held at <paramref name="level"/>.</summary>
    public ulong Count(int level) => level < _levels.Count ? _levels[level].Count : 0;

    /// <summary>Total bytes of hash storage allocated (chunks), for memory accounting.</summary>
    public long AllocatedBytes => _levels.Sum(l => (long)l.Chunks.Count * ChunkNodes * MerkleHash.Size);

    /// <inheritdoc/>
    public bool TryGetNodes(ReadOnlySpan<MerkleNodeId> ids, Span<byte> hashes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hashes.Length, ids.Length * MerkleHash.Size, nameof(hashes));
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i];
            if (id.Level < 0 || id.Level >= _levels.Count || id.Index >= _levels[id.Level].Count)
            {
                return false;
            }

            Slot(_levels[id.Level], id.Index).CopyTo(hashes.Slice(i * MerkleHash.Size, MerkleHash.Size));
        }

        return true;
    }

    /// <inheritdoc/>
    public void PutNodes(ReadOnlySpan<MerkleNodeId> ids, ReadOnlySpan<byte> hashes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hashes.Length, ids.Length * MerkleHash.Size, nameof(hashes));
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i];
            ArgumentOutOfRangeException.ThrowIfNegative(id.Level, nameof(ids));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(id.Level, 63, nameof(ids));
            while (_levels.Count <= id.Level)
            {
                _levels.Add(new Level());
            }

            var level = _levels[id.Level];
            var hash = hashes.Slice(i * MerkleHash.Size, MerkleHash.Size);
            if (id.Index < level.Count)
            {
                if (!Slot(level, id.Index).SequenceEqual(hash))
                {
                    throw new InvalidOperationException($"node {id} is already stored with a different hash");
                }

                continue;
            }

            if (id.Index != level.Count)
            {
                throw new InvalidOperationException($"node {id} would leave a gap: level {id.Level} holds {level.Count} nodes");
            }

            if ((id.Index & ChunkMask) == 0)
            {
                level.Chunks.Add(new byte[ChunkNodes * MerkleHash.Size]);
            }

            hash.CopyTo(Slot(level, id.Index));
            level.Count++;
        }
    }

    private static Span<byte> Slot(Level level, ulong index) =>
        level.Chunks[(int)(index >> ChunkShift)].AsSpan((int)(index & ChunkMask) * MerkleHash.Size, MerkleHash.Size);

    private sealed class Level
    {
        public List<byte[]> Chunks { get; } = [];

        public ulong Count { get; set; }
    }
}
