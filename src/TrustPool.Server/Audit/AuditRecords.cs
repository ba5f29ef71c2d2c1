using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Records;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Audit;

/// <summary>The audit records the service writes (schema version 1 each).</summary>
public static class AuditRecords
{
    public const int SchemaVersion = 1;

    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static AuditRecord HostEnrolled(HostRecord host, bool reenrolled, DateTimeOffset time) =>
        new(AuditRecordTypes.HostEnrolled, SchemaVersion, time, new JsonObject
        {
            ["host"] = host.Name,
            ["agentUrl"] = host.AgentUrl,
            ["akName"] = Convert.ToHexStringLower(host.AkName),
            ["ekPublicSha256"] = Sha256Hex(host.EkPublic),
            ["ekTrust"] = host.EkTrust,
            ["reenrolled"] = reenrolled,
        });

    public static AuditRecord HostRemoved(HostRecord? host, string name, DateTimeOffset time) =>
        new(AuditRecordTypes.HostRemoved, SchemaVersion, time, new JsonObject
        {
            ["host"] = name,
            ["akName"] = host is null ? null : Convert.ToHexStringLower(host.AkName),
            ["ekPublicSha256"] = host is null ? null : Sha256Hex(host.EkPublic),
        });

    public static AuditRecord HostReenrollmentRequired(HostRecord host, DateTimeOffset time) =>
        new(AuditRecordTypes.HostReenrollmentRequired, SchemaVersion, time, new JsonObject
        {
            ["host"] = host.Name,
            ["akName"] = Convert.ToHexStringLower(host.AkName),
            ["ekPublicSha256"] = Sha256Hex(host.EkPublic),
        });

    /// <summary><paramref name="change"/>: created, changed or deleted.</summary>
    public static AuditRecord BaselineChanged(string change, string name, int? version, string? kind, string? digest, DateTimeOffset time) =>
        new(AuditRecordTypes.BaselineChanged, SchemaVersion, time, new JsonObject
        {
            ["change"] = change,
            ["name"] = name,
            ["version"] = version,
            ["kind"] = kind,
            ["digest"] = digest,
        });

    /// <summary><paramref name="change"/>: created, changed or deleted.</summary>
    public static AuditRecord PoolChanged(string change, string name, int? version, string? documentJson, DateTimeOffset time) =>
        new(AuditRecordTypes.PoolChanged, SchemaVersion, time, new JsonObject
        {
            ["change"] = change,
            ["name"] = name,
            ["version"] = version,
            ["documentSha256"] = documentJson is null ? null : Sha256Hex(documentJson),
        });

    public static AuditRecord ReportIssued(ReportRecord report) =>
        new(AuditRecordTypes.ReportIssued, SchemaVersion, report.VerifiedAt, new JsonObject
        {
            ["reportId"] = report.Id,
            ["host"] = report.Host,
            ["result"] = report.Trust,
            ["validFrom"] = Iso(report.ValidFrom),
            ["validTo"] = Iso(report.ValidTo),
            ["jwsSha256"] = Sha256Hex(report.Jws),
        });

    public static AuditRecord PlacementMade(PlacementRecord p) =>
        new(AuditRecordTypes.PlacementMade, SchemaVersion, p.CreatedAt, new JsonObject
        {
            ["placementId"] = p.Id,
            ["workload"] = p.Workload,
            ["host"] = p.Host,
            ["reportId"] = p.ReportId,
        });

    public static AuditRecord PlacementReleased(PlacementRecord p, DateTimeOffset time) =>
        new(AuditRecordTypes.PlacementReleased, SchemaVersion, time, new JsonObject
        {
            ["placementId"] = p.Id,
            ["workload"] = p.Workload,
            ["host"] = p.Host,
            ["reportId"] = p.ReportId,
        });

    /// <summary>An evacuation plan: the moves (workload, from, to) as the API returned them, and its digest.</summary>
    public static AuditRecord EvacuationPlanned(JsonNode plan, DateTimeOffset time) =>
        new(AuditRecordTypes.EvacuationPlanned, SchemaVersion, time, new JsonObject
        {
            ["plan"] = plan.DeepClone(),
            ["planSha256"] = Sha256Hex(CanonicalJson.Encode(plan)),
        });

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
