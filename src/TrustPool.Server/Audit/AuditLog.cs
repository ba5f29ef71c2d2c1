using System.Security.Cryptography;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Audit;

/// <summary>An appended audit record and where it landed.</summary>
public sealed record AuditEntry(long Index, AuditRecord Record, byte[] LeafHash);

/// <summary>
/// The service's Merkle audit log in the store: checkpoints, proofs and reads. Records are not appended here: a change
/// records them on its transaction (<see cref="IStoreTransaction.Audit"/>) and the store appends them inside the
/// commit, so a write cannot commit without its records. Checkpoints are C2SP signed notes signed with the
/// report-signing key.
/// </summary>
public sealed class AuditLog
{
    public const string DefaultOrigin = "trustpool/audit";

    /// <summary>Largest page of <see cref="ReadEntriesAsync"/>.</summary>
    public const int MaxPage = 1000;

    private readonly TimeProvider _time;
    private readonly TimeSpan _checkpointInterval;

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

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// The latest signed checkpoint; a new one is signed and stored when the log grew and the latest is older than
    /// the checkpoint interval (or there is none yet).
    /// </summary>
    public async Task<CheckpointRecord> CheckpointAsync(ITrustStore store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var tx = await store.BeginAsync(ct);
        await AuditAppender.LockAsync(tx);
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
}
