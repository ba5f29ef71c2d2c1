namespace TrustPool.Server.Storage;

// Timestamps are stored as BIGINT unix milliseconds UTC on both providers: values read back are
// UTC DateTimeOffsets truncated to whole milliseconds.

/// <summary>An enrolled host: its agent, its TPM keys and the attestation state carried between polls.</summary>
/// <remarks>
/// EkTrust: "ca" (EK certificate chained to a configured CA) or "tofu" (trusted on first use).
/// State: "enrolled" or "re-enrollment-required" (only enrolled hosts are claimed for polling).
/// TagsJson: a JSON object, "{}" when the host has no tags.
/// EnrollmentId: random, new on every enrollment and re-enrollment; only reports carrying it are the host's current ones.
/// EkKey: <see cref="HostKeys.EkKey"/> of the EK, AkKey: the AK's TPM Name; both unique among hosts (one TPM is one
/// host). Null only for a host the schema migration found sharing its TPM with an earlier one (re-enrollment-required).
/// </remarks>
public sealed record HostRecord(
    string Name,
    string AgentUrl,
    string TlsFingerprint,
    byte[] EkPublic,
    byte[]? EkCertificate,
    byte[] AkPublic,
    byte[] AkName,
    string EkTrust,
    string State,
    string TagsJson,
    DateTimeOffset EnrolledAt,
    byte[]? LastClockInfo,
    long ImaOffset,
    string? ImaStateJson,
    string? InventoryJson,
    string? EnrollmentId = null,
    byte[]? EkKey = null,
    byte[]? AkKey = null);

/// <summary>One version of a baseline. Versions of a name are numbered 1, 2, 3, ... by the store.</summary>
public sealed record BaselineRecord(string Name, int Version, string Kind, string DocumentJson, string Digest, DateTimeOffset CreatedAt);

/// <summary>The current definition of a pool; <see cref="Version"/> counts its updates from 1.</summary>
public sealed record PoolRecord(string Name, int Version, string DocumentJson, DateTimeOffset CreatedAt);

/// <summary>
/// A signed attestation report. Reports are history: deleting the host keeps them. <see cref="Enrollment"/> is the
/// host's enrollment id when it was attested (also in the signed payload); a report is current only while it equals the
/// host's <see cref="HostRecord.EnrollmentId"/>. Null for reports written before schema version 5.
/// </summary>
public sealed record ReportRecord(
    string Id,
    string Host,
    string Trust,
    DateTimeOffset VerifiedAt,
    DateTimeOffset ValidFrom,
    DateTimeOffset ValidTo,
    string Jws,
    string PayloadJson,
    string? Enrollment = null);

/// <summary>An API token; only the hash of the secret is stored.</summary>
public sealed record TokenRecord(string Id, string Name, string Role, byte[] Hash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>A webhook subscription; <see cref="EventsJson"/> is a JSON array of event names.</summary>
public sealed record WebhookRecord(string Id, string Url, byte[] Secret, string EventsJson, DateTimeOffset CreatedAt);
