using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace TrustPool.Server.Api.Contracts;

/// <summary><c>GET /v1/audit/checkpoints</c>: every stored checkpoint and what verifies them.</summary>
/// <param name="Origin">The log's origin line (first line of every checkpoint note).</param>
/// <param name="KeyName">The signed-note key name of the checkpoint signer.</param>
/// <param name="PublicKey">The signer's public key (PEM).</param>
/// <param name="Checkpoints">Oldest first.</param>
public sealed record AuditCheckpointList(string Origin, string KeyName, string PublicKey, IReadOnlyList<AuditCheckpointView> Checkpoints);

/// <summary>One signed checkpoint.</summary>
/// <param name="Size">The tree size it commits to.</param>
/// <param name="Note">The C2SP signed note (origin, size, base64 root hash, signature lines).</param>
public sealed record AuditCheckpointView(long Size, string Note);

/// <summary><c>GET /v1/audit/proof/inclusion</c> (RFC 9162, 2.1.3).</summary>
/// <param name="Leaf">The leaf index.</param>
/// <param name="Size">The tree size the proof is for.</param>
/// <param name="LeafHash">The leaf's hash (base64).</param>
/// <param name="Proof">The audit path, leaf to root (base64 hashes).</param>
public sealed record AuditInclusionProof(long Leaf, long Size, string LeafHash, IReadOnlyList<string> Proof);

/// <summary><c>GET /v1/audit/proof/consistency</c> (RFC 9162, 2.1.4).</summary>
/// <param name="From">The older tree size.</param>
/// <param name="To">The newer tree size.</param>
/// <param name="Proof">The consistency proof (base64 hashes).</param>
public sealed record AuditConsistencyProof(long From, long To, IReadOnlyList<string> Proof);

/// <summary><c>GET /v1/audit/entries</c>: a bounded page of the log.</summary>
/// <param name="Size">The log's current size.</param>
/// <param name="From">The first index of the page.</param>
/// <param name="To">One past the last index of the page.</param>
/// <param name="Entries">The entries in log order.</param>
public sealed record AuditEntryPage(long Size, long From, long To, IReadOnlyList<AuditEntryView> Entries);

/// <summary>One audit log entry exactly as stored.</summary>
/// <param name="Index">Its leaf index.</param>
/// <param name="Type">The record type (e.g. <c>baseline.changed</c>).</param>
/// <param name="Record">The record as canonical JSON text (what the leaf hash covers).</param>
/// <param name="LeafHash">The leaf hash (base64).</param>
public sealed record AuditEntryView(long Index, string Type, string Record, string LeafHash);

/// <summary>Source-generated JSON for the audit contracts (registered in <see cref="ApiJson"/>).</summary>
/// <remarks>
/// The compliance report is not here: it stays the <see cref="JsonObject"/> the compliance-report builder makes (its
/// shape belongs to that builder and to the offline verifier), declared on its route as a JSON object.
/// </remarks>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AuditCheckpointList))]
[JsonSerializable(typeof(AuditInclusionProof))]
[JsonSerializable(typeof(AuditConsistencyProof))]
[JsonSerializable(typeof(AuditEntryPage))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
