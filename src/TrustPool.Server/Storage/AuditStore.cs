using System.Globalization;
using Dapper;

namespace TrustPool.Server.Storage;

/// <summary>One stored audit leaf: its index, record type, canonical record JSON and leaf hash.</summary>
public sealed record AuditLeafRecord(long Index, string Type, string RecordJson, byte[] LeafHash, DateTimeOffset CreatedAt);

/// <summary>A stored signed checkpoint (C2SP signed note) of the audit log.</summary>
public sealed record CheckpointRecord(long Size, string Note, DateTimeOffset CreatedAt);

/// <summary>The audit log tables (schema version 3), read and written inside a transaction.</summary>
public static class AuditStore
{
    /// <summary>Number of leaves committed (or written by this transaction).</summary>
    public static async Task<long> GetAuditSizeAsync(this IStoreTransaction tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var v = await tx.Connection.ExecuteScalarAsync(new CommandDefinition("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_leaves", transaction: tx.Transaction));
        return Convert.ToInt64(v, CultureInfo.InvariantCulture);
    }

    /// <summary>Leaves with <paramref name="from"/> ≤ index &lt; <paramref name="to"/>, in index order.</summary>
    public static async Task<IReadOnlyList<AuditLeafRecord>> ListAuditLeavesAsync(this IStoreTransaction tx, long from, long to)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var rows = await tx.Connection.QueryAsync<LeafRow>(new CommandDefinition(
            "SELECT idx, type, record, leaf_hash, created_at FROM audit_leaves WHERE idx >= @from AND idx < @to ORDER BY idx",
            new { from, to }, tx.Transaction));
        return [.. rows.Select(r => new AuditLeafRecord(r.idx, r.type, r.record, r.leaf_hash, Sql.Time(r.created_at)))];
    }

    /// <summary>Leaves of one record type, in index order.</summary>
    public static async Task<IReadOnlyList<AuditLeafRecord>> ListAuditLeavesOfTypeAsync(this IStoreTransaction tx, string type)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var rows = await tx.Connection.QueryAsync<LeafRow>(new CommandDefinition(
            "SELECT idx, type, record, leaf_hash, created_at FROM audit_leaves WHERE type = @type ORDER BY idx",
            new { type }, tx.Transaction));
        return [.. rows.Select(r => new AuditLeafRecord(r.idx, r.type, r.record, r.leaf_hash, Sql.Time(r.created_at)))];
    }

    public static async Task<CheckpointRecord?> GetLatestCheckpointAsync(this IStoreTransaction tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var rows = await tx.Connection.QueryAsync<CheckpointRow>(new CommandDefinition(
            "SELECT size, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1", transaction: tx.Transaction));
        return rows.Select(r => new CheckpointRecord(r.size, r.note, Sql.Time(r.created_at))).FirstOrDefault();
    }

    /// <summary>Every stored checkpoint, smallest first.</summary>
    public static async Task<IReadOnlyList<CheckpointRecord>> ListCheckpointsAsync(this IStoreTransaction tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var rows = await tx.Connection.QueryAsync<CheckpointRow>(new CommandDefinition(
            "SELECT size, note, created_at FROM checkpoints ORDER BY size", transaction: tx.Transaction));
        return [.. rows.Select(r => new CheckpointRecord(r.size, r.note, Sql.Time(r.created_at)))];
    }

    public static async Task InsertCheckpointAsync(this IStoreTransaction tx, CheckpointRecord checkpoint)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(checkpoint);
        await tx.Connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO checkpoints (size, note, created_at) VALUES (@Size, @Note, @CreatedAt)",
            new { checkpoint.Size, checkpoint.Note, CreatedAt = Sql.Ms(checkpoint.CreatedAt) },
            tx.Transaction));
    }

#pragma warning disable IDE1006, CA1812 // Dapper maps columns to these names; instantiated by Dapper.
    private sealed class LeafRow
    {
        public long idx { get; set; }
        public string type { get; set; } = "";
        public string record { get; set; } = "";
        public byte[] leaf_hash { get; set; } = [];
        public long created_at { get; set; }
    }

    private sealed class CheckpointRow
    {
        public long size { get; set; }
        public string note { get; set; } = "";
        public long created_at { get; set; }
    }
#pragma warning restore IDE1006, CA1812
}
