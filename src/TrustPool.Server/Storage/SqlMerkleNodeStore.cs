using System.Data.Common;
using System.Globalization;
using System.Text;
using TrustPool.Audit.Merkle;

namespace TrustPool.Server.Storage;

/// <summary>
/// <see cref="IMerkleNodeStore"/> over the <c>merkle_nodes</c> table, bound to one <see cref="IStoreTransaction"/>:
/// nodes written by an append commit or roll back with the caller's transaction. Each call is one statement.
/// </summary>
public sealed class SqlMerkleNodeStore : IMerkleNodeStore
{
    private readonly IStoreTransaction _tx;

    public SqlMerkleNodeStore(IStoreTransaction tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        _tx = tx;
    }

    public bool TryGetNodes(ReadOnlySpan<MerkleNodeId> ids, Span<byte> hashes)
    {
        if (ids.Length == 0)
        {
            return true;
        }

        using var command = Command();
        var sql = new StringBuilder("SELECT level, idx, hash FROM merkle_nodes WHERE ");
        for (var i = 0; i < ids.Length; i++)
        {
            sql.Append(i == 0 ? "" : " OR ").Append(CultureInfo.InvariantCulture, $"(level = @l{i} AND idx = @i{i})");
            Add(command, $"l{i}", ids[i].Level);
            Add(command, $"i{i}", checked((long)ids[i].Index));
        }

        command.CommandText = sql.ToString();
        var found = new Dictionary<MerkleNodeId, byte[]>(ids.Length);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                found[new MerkleNodeId(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture), (ulong)reader.GetInt64(1))] = (byte[])reader.GetValue(2);
            }
        }

        for (var i = 0; i < ids.Length; i++)
        {
            if (!found.TryGetValue(ids[i], out var hash) || hash.Length != MerkleHash.Size)
            {
                return false;
            }

            hash.CopyTo(hashes.Slice(i * MerkleHash.Size, MerkleHash.Size));
        }

        return true;
    }

    public void PutNodes(ReadOnlySpan<MerkleNodeId> ids, ReadOnlySpan<byte> hashes)
    {
        if (ids.Length == 0)
        {
            return;
        }

        using var command = Command();
        var sql = new StringBuilder("INSERT INTO merkle_nodes (level, idx, hash) VALUES ");
        for (var i = 0; i < ids.Length; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@l{i}, @i{i}, @h{i})");
            Add(command, $"l{i}", ids[i].Level);
            Add(command, $"i{i}", checked((long)ids[i].Index));
            Add(command, $"h{i}", hashes.Slice(i * MerkleHash.Size, MerkleHash.Size).ToArray());
        }

        command.CommandText = sql.ToString();
        command.ExecuteNonQuery();
    }

    private DbCommand Command()
    {
        var command = _tx.Connection.CreateCommand();
        command.Transaction = _tx.Transaction;
        return command;
    }

    /// <summary>Adds a named parameter (the provider infers the type).</summary>
    internal static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }
}
