using System.Data.Common;
using System.Globalization;
using System.Text;
using TrustPool.Audit.Merkle;

namespace TrustPool.Server.Storage;

/// <summary>
/// The right edge of a committed log: the perfect subtrees along the right border of a <see cref="Size"/>-leaf tree,
/// all a new <see cref="MerkleTree"/> reads before appending. A committed log never changes, so an edge read or
/// written once is valid for as long as the log still has exactly <see cref="Size"/> leaves.
/// </summary>
internal sealed record CommittedEdge(long Size, IReadOnlyDictionary<MerkleNodeId, byte[]> Nodes)
{
    /// <summary>The node ids of the right edge of a tree of <paramref name="size"/> leaves, largest subtree first.</summary>
    public static IEnumerable<MerkleNodeId> Ids(ulong size)
    {
        ulong first = 0;
        for (var level = 63; level >= 0; level--)
        {
            if ((size >> level & 1) != 0)
            {
                yield return new MerkleNodeId(level, first >> level);
                first += 1UL << level;
            }
        }
    }
}

/// <summary>
/// One append's node store: reads the right edge from the cached <see cref="CommittedEdge"/> when it is for the
/// current size (else from <c>merkle_nodes</c>), keeps every node the append completes in memory, and writes them
/// with the new leaf rows in one command at <see cref="FlushAsync"/>. Lives for one <c>AuditLog.AppendAsync</c>.
/// </summary>
internal sealed class AppendBuffer : IMerkleNodeStore
{
    // Rows per INSERT statement: SQLite looks named parameters up by a linear search, so long statements cost O(n²).
    private const int RowsPerStatement = 50;

    private readonly IStoreTransaction _tx;
    private readonly SqlMerkleNodeStore _sql;
    private readonly Dictionary<MerkleNodeId, byte[]> _known = [];
    private readonly List<(MerkleNodeId Id, byte[] Hash)> _written = [];
    private readonly List<AuditLeafRecord> _leaves = [];

    public AppendBuffer(IStoreTransaction tx, CommittedEdge? edge)
    {
        _tx = tx;
        _sql = new SqlMerkleNodeStore(tx);
        if (edge is not null)
        {
            foreach (var (id, hash) in edge.Nodes)
            {
                _known[id] = hash;
            }
        }
    }

    public bool TryGetNodes(ReadOnlySpan<MerkleNodeId> ids, Span<byte> hashes)
    {
        var missing = new List<int>();
        for (var i = 0; i < ids.Length; i++)
        {
            if (_known.TryGetValue(ids[i], out var hash))
            {
                hash.CopyTo(hashes.Slice(i * MerkleHash.Size, MerkleHash.Size));
            }
            else
            {
                missing.Add(i);
            }
        }

        if (missing.Count == 0)
        {
            return true;
        }

        var read = new MerkleNodeId[missing.Count];
        for (var m = 0; m < missing.Count; m++)
        {
            read[m] = ids[missing[m]];
        }

        var readHashes = new byte[read.Length * MerkleHash.Size];
        if (!_sql.TryGetNodes(read, readHashes))
        {
            return false;
        }

        for (var m = 0; m < missing.Count; m++)
        {
            var hash = readHashes.AsSpan(m * MerkleHash.Size, MerkleHash.Size);
            hash.CopyTo(hashes.Slice(missing[m] * MerkleHash.Size, MerkleHash.Size));
            _known[read[m]] = hash.ToArray();
        }

        return true;
    }

    public void PutNodes(ReadOnlySpan<MerkleNodeId> ids, ReadOnlySpan<byte> hashes)
    {
        for (var i = 0; i < ids.Length; i++)
        {
            var hash = hashes.Slice(i * MerkleHash.Size, MerkleHash.Size).ToArray();
            _known[ids[i]] = hash;
            _written.Add((ids[i], hash));
        }
    }

    public void AddLeaf(AuditLeafRecord leaf) => _leaves.Add(leaf);

    /// <summary>The right edge after this append, for the cache once the transaction commits.</summary>
    public CommittedEdge Edge(long size) =>
        new(size, CommittedEdge.Ids((ulong)size).ToDictionary(id => id, id => _known[id]));

    /// <summary>Writes the leaf rows and the completed nodes; one command per <see cref="RowsPerStatement"/> rows of each.</summary>
    public async Task FlushAsync()
    {
        for (var start = 0; start < Math.Max(_leaves.Count, _written.Count); start += RowsPerStatement)
        {
            await using var command = _tx.Connection.CreateCommand();
            command.Transaction = _tx.Transaction;
            var sql = new StringBuilder();
            var leaves = _leaves.Count > start ? _leaves.GetRange(start, Math.Min(RowsPerStatement, _leaves.Count - start)) : [];
            if (leaves.Count > 0)
            {
                sql.Append("INSERT INTO audit_leaves (idx, type, record, leaf_hash, created_at) VALUES ");
                for (var i = 0; i < leaves.Count; i++)
                {
                    var l = leaves[i];
                    sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@x{i}, @t{i}, @r{i}, @lh{i}, @c{i})");
                    Add(command, $"x{i}", l.Index);
                    Add(command, $"t{i}", l.Type);
                    Add(command, $"r{i}", l.RecordJson);
                    Add(command, $"lh{i}", l.LeafHash);
                    Add(command, $"c{i}", Sql.Ms(l.CreatedAt));
                }

                sql.Append(';');
            }

            var nodes = _written.Count > start ? _written.GetRange(start, Math.Min(RowsPerStatement, _written.Count - start)) : [];
            if (nodes.Count > 0)
            {
                sql.Append("INSERT INTO merkle_nodes (level, idx, hash) VALUES ");
                for (var i = 0; i < nodes.Count; i++)
                {
                    sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@l{i}, @i{i}, @h{i})");
                    Add(command, $"l{i}", nodes[i].Id.Level);
                    Add(command, $"i{i}", checked((long)nodes[i].Id.Index));
                    Add(command, $"h{i}", nodes[i].Hash);
                }

                sql.Append(';');
            }

            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync();
        }
    }

    private static void Add(DbCommand command, string name, object value) => SqlMerkleNodeStore.Add(command, name, value);
}
