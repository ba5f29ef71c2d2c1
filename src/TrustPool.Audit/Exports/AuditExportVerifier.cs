using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;

namespace TrustPool.Audit.Exports;

/// <summary>
/// Offline verification of an audit export (<see cref="AuditExport.Format"/>) against its signed checkpoints: leaf
/// hashes from the record bytes, roots at every checkpoint size, signatures, consistency between successive
/// checkpoints. Pure: the caller reads the files and hands over their text.
/// </summary>
public static class AuditExportVerifier
{
    /// <summary>
    /// Verifies <paramref name="exportJson"/>, with <paramref name="extraCheckpoints"/> (signed notes obtained
    /// independently) and, when given, the PEM public key every signature must be made with (default: the export's).
    /// Throws <see cref="AuditExportFormatException"/> when the export or a key or checkpoint cannot be parsed.
    /// </summary>
    public static AuditExportVerification Verify(string exportJson, IReadOnlyList<string> extraCheckpoints, string? publicKeyPem)
    {
        ArgumentNullException.ThrowIfNull(exportJson);
        ArgumentNullException.ThrowIfNull(extraCheckpoints);
        JsonObject doc;
        try
        {
            // Duplicate names are refused while parsing: JsonObject would otherwise throw ArgumentException on first access.
            doc = JsonNode.Parse(exportJson, null, new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new AuditExportFormatException("the export is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new AuditExportFormatException($"the export is not JSON: {e.Message}");
        }

        string Str(JsonNode? n, string what)
        {
            try
            {
                return n?.GetValue<string>() ?? throw new AuditExportFormatException($"the export has no {what}");
            }
            catch (InvalidOperationException)
            {
                throw new AuditExportFormatException($"the export's {what} is not a string");
            }
        }

        if (doc["format"] is not JsonValue format || !format.TryGetValue<string>(out var formatName) || formatName != AuditExport.Format)
        {
            throw new AuditExportFormatException($"not a {AuditExport.Format} document");
        }

        var keyName = Str(doc["keyName"], "keyName");
        var origin = Str(doc["origin"], "origin");
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem ?? Str(doc["publicKey"], "publicKey"));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or PlatformNotSupportedException)
        {
            // PlatformNotSupportedException: a well-formed key on a curve OpenSSL does not offer.
            throw new AuditExportFormatException($"the public key is not a PEM EC key: {e.Message}");
        }

        CheckpointVerifier verifier;
        try
        {
            verifier = new CheckpointVerifier(keyName, key, origin);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new AuditExportFormatException($"the export's keyName or publicKey cannot verify checkpoints: {e.Message}");
        }
        var problems = new List<AuditExportProblem>();

        // Signed checkpoints, by size (the export's and any given separately).
        var notes = new List<string>();
        var listed = doc["checkpoints"] as JsonArray ?? throw new AuditExportFormatException("the export has no checkpoints array");
        for (var i = 0; i < listed.Count; i++)
        {
            var c = listed[i] as JsonObject ?? throw new AuditExportFormatException($"checkpoint {i} is not an object");
            notes.Add(Str(c["note"], "checkpoint note"));
        }

        notes.AddRange(extraCheckpoints);
        var checkpoints = new SortedDictionary<ulong, Checkpoint>();
        foreach (var note in notes)
        {
            if (!verifier.TryVerify(note, out var cp, out var error))
            {
                if (error is MalformedCheckpoint && !note.Contains('\u2014', StringComparison.Ordinal))
                {
                    throw new AuditExportFormatException($"not a signed checkpoint: {error.Message}");
                }

                problems.Add(new(AuditExportProblemKind.BadCheckpoint, null, $"checkpoint: {error.Message}"));
                continue;
            }

            if (checkpoints.TryGetValue(cp.Size, out var same) && !same.RootHash.AsSpan().SequenceEqual(cp.RootHash))
            {
                problems.Add(new(AuditExportProblemKind.Fork, null, $"checkpoint size {cp.Size}: two signed checkpoints with different roots (the log forked)"));
                continue;
            }

            checkpoints[cp.Size] = cp;
        }

        // Records: canonical bytes, leaf hashes, positions.
        var entries = doc["entries"] as JsonArray ?? throw new AuditExportFormatException("the export has no entries array");
        var leaves = new List<byte[]>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i] as JsonObject ?? throw new AuditExportFormatException($"entry {i} is not an object");
            var bytes = Encoding.UTF8.GetBytes(Str(e["record"], $"record of entry {i}"));
            var leaf = MerkleHash.LeafHash(bytes);
            leaves.Add(leaf);
            long index;
            try
            {
                index = e["index"]?.GetValue<long>() ?? throw new AuditExportFormatException($"entry {i} has no index");
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException)
            {
                throw new AuditExportFormatException($"entry {i}: the index is not an integer");
            }

            if (index != i)
            {
                problems.Add(index > i
                    ? new(AuditExportProblemKind.RecordMissing, i, $"record {i}: missing or out of order (found the record stored as index {index} at position {i})")
                    : new(AuditExportProblemKind.RecordInserted, i, $"record {i}: inserted or out of order (found a record stored as index {index} at position {i})"));
            }

            if (e["leafHash"] is { } stored && Str(stored, $"leafHash of entry {i}") != Convert.ToBase64String(leaf))
            {
                problems.Add(new(AuditExportProblemKind.RecordEdited, i, $"record {i}: edited (its bytes do not hash to the stored leaf hash)"));
            }

            try
            {
                var record = AuditRecordEncoding.Decode(bytes);
                if (e["type"] is { } type && Str(type, $"type of entry {i}") != record.Type)
                {
                    problems.Add(new(AuditExportProblemKind.RecordEdited, i, $"record {i}: edited (type '{record.Type}' listed as '{type}')"));
                }
            }
            catch (AuditRecordFormatException ex)
            {
                problems.Add(new(AuditExportProblemKind.RecordEdited, i, $"record {i}: edited (not a canonical audit record: {ex.Message})"));
            }
        }

        // Roots at every checkpoint size, and consistency between successive checkpoints.
        var range = new CompactRange();
        var tree = new MerkleTree();
        Checkpoint? previous = null;
        long verified = 0;
        var next = 0;
        foreach (var cp in checkpoints.Values)
        {
            if (cp.Size > (ulong)leaves.Count)
            {
                problems.Add(new(AuditExportProblemKind.RecordsMissing, leaves.Count, $"record {leaves.Count}: records {leaves.Count}..{cp.Size - 1} are missing (a signed checkpoint covers {cp.Size} records)"));
                break;
            }

            while ((ulong)next < cp.Size)
            {
                range.Append(leaves[next]);
                tree.AppendLeafHash(leaves[next]);
                next++;
            }

            if (!range.Root().AsSpan().SequenceEqual(cp.RootHash))
            {
                var from = previous?.Size ?? 0;
                problems.Add(new(AuditExportProblemKind.RootMismatch, null, $"checkpoint size {cp.Size}: the records do not rebuild its signed root (a record in {from}..{cp.Size - 1} was edited, dropped, inserted or reordered)"));
                break;
            }

            if (previous is not null && !CheckpointVerifier.TryVerifyConsistencyBetween(previous, cp, tree.ConsistencyProof(previous.Size, cp.Size), out var error))
            {
                problems.Add(new(AuditExportProblemKind.Inconsistent, null, $"checkpoint size {cp.Size}: not consistent with checkpoint size {previous.Size}: {error.Message}"));
                break;
            }

            verified = (long)cp.Size;
            previous = cp;
        }

        if (checkpoints.Count == 0)
        {
            problems.Add(new(AuditExportProblemKind.NoCheckpoint, null, "no valid signed checkpoint: nothing is verified"));
        }
        else if (verified < leaves.Count && problems.Count == 0)
        {
            problems.Add(new(AuditExportProblemKind.NotCovered, verified, string.Create(CultureInfo.InvariantCulture, $"record {verified}: records {verified}..{leaves.Count - 1} are not covered by any signed checkpoint")));
        }

        return new AuditExportVerification(entries.Count, checkpoints.Count, verified, problems);
    }
}
