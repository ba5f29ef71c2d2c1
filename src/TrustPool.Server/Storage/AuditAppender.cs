using System.Text;
using Dapper;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;
using TrustPool.Server.Audit;

namespace TrustPool.Server.Storage;

/// <summary>
/// Appends a transaction's audit records to the Merkle log inside its commit (<see cref="StoreTransaction.CommitAsync"/>):
/// leaf rows and tree nodes commit or roll back with the change they record. Appends are serialised across
/// transactions (SQLite has one writer; on PostgreSQL a transaction-scoped advisory lock), and the current size is read
/// inside the locked transaction. One per store instance: it caches the right edge its last commit left.
/// </summary>
internal sealed class AuditAppender
{
    private const long PostgresAdvisoryLockKey = 0x5472_7573_7441_7564; // "TrustAud"

    private CommittedEdge? _edge;

    public async Task<IReadOnlyList<AuditEntry>> AppendAsync(IStoreTransaction tx, IReadOnlyList<AuditRecord> records, DateTimeOffset now)
    {
        if (records.Count == 0)
        {
            return [];
        }

        await LockAsync(tx);
        var size = await tx.GetAuditSizeAsync();
        // The right edge comes from the last commit when nothing else appended since (always, with one service
        // writing); otherwise it is read from merkle_nodes. The size is read inside the locked transaction either way.
        var edge = Volatile.Read(ref _edge);
        var buffer = new AppendBuffer(tx, edge?.Size == size ? edge : null);
        var tree = new MerkleTree(buffer, (ulong)size);
        var entries = new List<AuditEntry>(records.Count);
        foreach (var record in records)
        {
            var bytes = AuditRecordEncoding.Encode(record);
            var leaf = MerkleHash.LeafHash(bytes);
            var index = (long)tree.AppendLeafHash(leaf);
            buffer.AddLeaf(new AuditLeafRecord(index, record.Type, Encoding.UTF8.GetString(bytes), leaf, now));
            entries.Add(new AuditEntry(index, record, leaf));
        }

        await buffer.FlushAsync();
        var next = buffer.Edge(size + records.Count);
        tx.OnCommitted(() => Volatile.Write(ref _edge, next));
        return entries;
    }

    /// <summary>Serialises audit appends and checkpoints with other transactions (PostgreSQL; SQLite's writer lock already does).</summary>
    public static async Task LockAsync(IStoreTransaction tx)
    {
        if (tx.Provider == TrustStore.PostgresProvider)
        {
            await tx.Connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = PostgresAdvisoryLockKey }, tx.Transaction));
        }
    }
}
