using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;
using TrustPool.Server.Api;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Audit;

/// <summary>An appended audit record and where it landed.</summary>
public sealed record AuditEntry(long Index, AuditRecord Record, byte[] LeafHash);

/// <summary>
/// The service's Merkle audit log in the store. AppendAsync writes records inside the caller's
/// transaction (leaf rows and tree nodes commit or roll back with the event they record); appends are serialised
/// across transactions (SQLite has one writer; on PostgreSQL a transaction-scoped advisory lock), and the current
/// size is read from the table inside the transaction. Checkpoints are C2SP signed notes signed with the
/// report-signing key.
/// </summary>
public sealed class AuditLog
{
    public const string DefaultOrigin = "trustpool/audit";

    /// <summary>Largest page of <see cref="ReadEntriesAsync"/>.</summary>
    public const int MaxPage = 1000;

    private const long PostgresAdvisoryLockKey = 0x5472_7573_7441_7564; // "TrustAud"

    private readonly TimeProvider _time;
    private readonly TimeSpan _checkpointInterval;
    private CommittedEdge? _edge;

    public AuditLog(ECDsa key, TimeProvider time, TimeSpan checkpointInterval, string origin = DefaultOrigin)
    {
        ArgumentNullException.ThrowIfNull(key);
        Origin = origin;
        Signer = new CheckpointSigner(origin, key);
        PublicKeyPem = key.ExportSubjectPublicKeyInfoPem();
        _time = time;
        _checkpointInterval = checkpointInterval;
    }

    public string Origin { get; }

    public CheckpointSigner Signer { get; }

    /// <summary>The checkpoint-signing (report-signing) public key as PEM SubjectPublicKeyInfo.</summary>
    public string PublicKeyPem { get; }

    /// <summary>Where records go after commit (type = record type), when SIEM export is configured.</summary>
    public Siem.SiemExporter? Siem { get; set; }

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Appends one record inside <paramref name="tx"/>. Call it last in the transaction, just before commit.</summary>
    public Task<IReadOnlyList<AuditEntry>> AppendAsync(IStoreTransaction tx, AuditRecord record) => AppendAsync(tx, [record]);

    /// <summary>Appends records in order inside <paramref name="tx"/>. Call it last in the transaction, just before commit.</summary>
    public async Task<IReadOnlyList<AuditEntry>> AppendAsync(IStoreTransaction tx, IReadOnlyList<AuditRecord> records)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(records);
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
        var now = Now;
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

    /// <summary>After commit: hands each record to the SIEM exporter (if configured).</summary>
    public void Published(IReadOnlyList<AuditEntry>? entries)
    {
        if (Siem is not { } siem || entries is null)
        {
            return;
        }

        foreach (var e in entries)
        {
            var fields = new List<KeyValuePair<string, string>>
            {
                new("auditIndex", e.Index.ToString(CultureInfo.InvariantCulture)),
                new("leafHash", Convert.ToBase64String(e.LeafHash)),
            };
            foreach (var (k, v) in e.Record.Fields)
            {
                fields.Add(new(k, v is JsonValue jv && jv.TryGetValue<string>(out var str) ? str : v?.ToJsonString() ?? "null"));
            }

            siem.Publish(e.Record.Type, global::TrustPool.Server.Siem.SiemSeverity.Informational, $"audit {e.Record.Type} #{e.Index}", fields);
        }
    }

    /// <summary>
    /// The latest signed checkpoint; a new one is signed and stored when the log grew and the latest is older than
    /// the checkpoint interval (or there is none yet).
    /// </summary>
    public async Task<CheckpointRecord> CheckpointAsync(ITrustStore store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var tx = await store.BeginAsync(ct);
        await LockAsync(tx);
        var latest = await tx.GetLatestCheckpointAsync();
        var size = await tx.GetAuditSizeAsync();
        var now = Now;
        if (latest is not null && (latest.Size >= size || now - latest.CreatedAt < _checkpointInterval))
        {
            return latest;
        }

        var tree = new MerkleTree(new SqlMerkleNodeStore(tx), (ulong)size);
        var signed = Signer.Sign(new Checkpoint(Origin, (ulong)size, tree.Root(), now));
        var record = new CheckpointRecord(size, signed.Note, now);
        await tx.InsertCheckpointAsync(record);
        await tx.CommitAsync();
        return record;
    }

    /// <summary>RFC 9162 inclusion proof of <paramref name="leaf"/> in the tree of <paramref name="size"/> leaves.</summary>
    public async Task<(byte[] LeafHash, byte[][] Proof)> InclusionProofAsync(ITrustStore store, long leaf, long size, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var tx = await store.BeginAsync(ct);
        var current = await tx.GetAuditSizeAsync();
        if (size < 1 || size > current)
        {
            throw ServiceException.Invalid("size", $"must be 1..{current} (the log has {current} leaves)");
        }

        if (leaf < 0 || leaf >= size)
        {
            throw ServiceException.Invalid("leaf", $"must be 0..{size - 1}");
        }

        var tree = new MerkleTree(new SqlMerkleNodeStore(tx), (ulong)current);
        var leafRow = await tx.ListAuditLeavesAsync(leaf, leaf + 1);
        return (leafRow[0].LeafHash, tree.InclusionProof((ulong)leaf, (ulong)size));
    }

    /// <summary>RFC 9162 consistency proof between the trees of <paramref name="from"/> and <paramref name="to"/> leaves.</summary>
    public async Task<byte[][]> ConsistencyProofAsync(ITrustStore store, long from, long to, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var tx = await store.BeginAsync(ct);
        var current = await tx.GetAuditSizeAsync();
        if (to < 0 || to > current)
        {
            throw ServiceException.Invalid("to", $"must be 0..{current} (the log has {current} leaves)");
        }

        if (from < 0 || from > to)
        {
            throw ServiceException.Invalid("from", $"must be 0..{to}");
        }

        var tree = new MerkleTree(new SqlMerkleNodeStore(tx), (ulong)current);
        return tree.ConsistencyProof((ulong)from, (ulong)to);
    }

    /// <summary>Stored leaves <paramref name="from"/> ≤ index &lt; <paramref name="to"/> (at most <see cref="MaxPage"/>) and the log size.</summary>
    public static async Task<(IReadOnlyList<AuditLeafRecord> Leaves, long Size)> ReadEntriesAsync(ITrustStore store, long from, long? to, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var tx = await store.BeginAsync(ct);
        var size = await tx.GetAuditSizeAsync();
        if (from < 0 || from > size)
        {
            throw ServiceException.Invalid("from", $"must be 0..{size}");
        }

        var end = to ?? size;
        if (end < from || end > size)
        {
            throw ServiceException.Invalid("to", $"must be {from}..{size}");
        }

        end = Math.Min(end, from + MaxPage);
        return (await tx.ListAuditLeavesAsync(from, end), size);
    }

    /// <summary>Every stored checkpoint, smallest first.</summary>
    public static async Task<IReadOnlyList<CheckpointRecord>> ReadCheckpointsAsync(ITrustStore store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var tx = await store.BeginAsync(ct);
        return await tx.ListCheckpointsAsync();
    }

    private static async Task LockAsync(IStoreTransaction tx)
    {
        if (tx.Provider == TrustStore.PostgresProvider)
        {
            await tx.Connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = PostgresAdvisoryLockKey }, tx.Transaction));
        }
    }
}

/// <summary>Appending through an optional log (a service without one records nothing).</summary>
public static class AuditLogExtensions
{
    /// <summary>Appends inside <paramref name="tx"/> when <paramref name="log"/> is set; call just before commit.</summary>
    public static async Task<IReadOnlyList<AuditEntry>?> AppendIfAsync(this AuditLog? log, IStoreTransaction tx, params AuditRecord[] records) =>
        log is null ? null : await log.AppendAsync(tx, records);
}
