using TrustPool.Audit.Compliance;
using TrustPool.Audit.Records;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Audit;

/// <summary>
/// The store side of the compliance report: signs (or reuses) the latest checkpoint, reads the leaves the report needs
/// and serves inclusion proofs and report payloads; <see cref="ComplianceReportBuilder"/> (TrustPool.Audit) builds it.
/// </summary>
public static class ComplianceReport
{
    /// <summary>The report of <paramref name="query"/>; <see cref="ServiceException"/> (bad input) names a bad query field.</summary>
    public static async Task<System.Text.Json.Nodes.JsonObject> BuildAsync(ITrustStore store, AuditLog log, ComplianceQuery query, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(query);
        try
        {
            query.Validate();
        }
        catch (ComplianceQueryException e)
        {
            throw ServiceException.Invalid(e.Field, e.Reason);
        }

        var checkpoint = await log.CheckpointAsync(store, ct);
        ComplianceLeaves leaves;
        await using (var tx = await store.BeginAsync(ct))
        {
            leaves = new ComplianceLeaves(
                await ReadAsync(tx, AuditRecordTypes.PlacementMade),
                await ReadAsync(tx, AuditRecordTypes.PlacementReleased),
                await ReadAsync(tx, AuditRecordTypes.ReportIssued));
        }

        var signed = new ComplianceLog(checkpoint.Note, checkpoint.Size, log.Origin, log.Signer.KeyName, log.PublicKeyPem);
        return await ComplianceReportBuilder.BuildAsync(query, signed, leaves, new Source(store, log), now, ct);
    }

    private static async Task<IReadOnlyList<ComplianceLeaf>> ReadAsync(IStoreTransaction tx, string type) =>
        [.. (await tx.ListAuditLeavesOfTypeAsync(type)).Select(l => new ComplianceLeaf(l.Index, l.RecordJson, l.LeafHash))];

    private sealed class Source(ITrustStore store, AuditLog log) : IComplianceSource
    {
        public async Task<IReadOnlyList<byte[]>> InclusionProofAsync(long index, long size, CancellationToken ct) =>
            (await log.InclusionProofAsync(store, index, size, ct)).Proof;

        public async Task<string?> ReportPayloadAsync(string reportId, CancellationToken ct) =>
            (await store.GetReportAsync(reportId, ct))?.PayloadJson;
    }
}
