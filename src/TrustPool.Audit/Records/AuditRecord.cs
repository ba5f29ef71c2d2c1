using System.Text.Json.Nodes;

namespace TrustPool.Audit.Records;

/// <summary>
/// One entry of the audit log. Its leaf in the Merkle tree is SHA-256(0x00 || <see cref="AuditRecordEncoding.Encode"/>),
/// so the canonical encoding, not this object, is what the log commits to. <see cref="Time"/> is kept to the
/// millisecond; <see cref="Fields"/> holds strings, booleans, nulls, integers of magnitude below 2^53, arrays
/// and objects (no fractions: write those as strings).
/// </summary>
/// <param name="Type">One of <see cref="AuditRecordTypes"/> (lower-case dotted name).</param>
/// <param name="SchemaVersion">Version of this type's <see cref="Fields"/> layout, from 1.</param>
/// <param name="Time">When it happened (service clock).</param>
/// <param name="Fields">The type-specific content.</param>
public sealed record AuditRecord(string Type, int SchemaVersion, DateTimeOffset Time, JsonObject Fields)
{
    /// <summary>The canonical bytes (<see cref="AuditRecordEncoding.Encode"/>).</summary>
    public byte[] ToCanonicalJson() => AuditRecordEncoding.Encode(this);

    /// <summary>The Merkle leaf hash of the canonical bytes.</summary>
    public byte[] LeafHash() => AuditRecordEncoding.LeafHash(this);
}
