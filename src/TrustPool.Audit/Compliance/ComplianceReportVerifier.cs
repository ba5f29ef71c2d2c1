using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;

namespace TrustPool.Audit.Compliance;

/// <summary>
/// Client-side check of a compliance report from the service (<see cref="ComplianceReportBuilder"/>, as JSON): the checkpoint is signed by the expected key, and every
/// cited record hashes to its leaf and is included in that checkpoint's tree. Marks each cited record
/// <c>"verified": true</c> once checked; returns what failed (empty when everything holds).
/// </summary>
public static class ComplianceReportVerifier
{
    /// <summary>
    /// Checks <paramref name="report"/> against <paramref name="pinnedPublicKeyPem"/> (default: the key the report
    /// names) and marks each verified cited record; returns one message per problem.
    /// </summary>
    public static IReadOnlyList<string> Verify(JsonObject report, string? pinnedPublicKeyPem)
    {
        ArgumentNullException.ThrowIfNull(report);
        var problems = new List<string>();
        var pem = pinnedPublicKeyPem ?? Str(report["publicKey"]);
        var (keyName, origin, note) = (Str(report["keyName"]), Str(report["origin"]), Str(report["checkpoint"]));
        if (pem is null || keyName is null || origin is null || note is null)
        {
            return ["checkpoint: the report lacks its publicKey, keyName, origin or checkpoint"];
        }

        Checkpoint checkpoint;
        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pem);
            checkpoint = new CheckpointVerifier(keyName, key, origin).Verify(note);
        }
        catch (Exception e) when (e is CheckpointException or CryptographicException or ArgumentException)
        {
            return [$"checkpoint: {e.Message}"];
        }

        if (report["checkpointSize"] is not JsonValue sizeValue || !sizeValue.TryGetValue<long>(out var size) || (ulong)size != checkpoint.Size)
        {
            problems.Add($"checkpointSize {report["checkpointSize"]?.ToJsonString()} is not the signed size {checkpoint.Size}");
        }

        foreach (var cited in Cited(report))
        {
            var index = cited["index"] is JsonValue iv && iv.TryGetValue<long>(out var i) ? i : -1;
            var record = Str(cited["record"]);
            var leafText = Str(cited["leafHash"]);
            var proofText = cited["inclusionProof"] is JsonArray a ? a.Select(Str).ToList() : null;
            if (index < 0 || record is null || leafText is null || proofText is null || proofText.Any(x => x is null))
            {
                problems.Add($"record {index}: malformed (index, record, leafHash and inclusionProof are required)");
                continue;
            }

            byte[] claimedLeaf;
            byte[][] proof;
            try
            {
                claimedLeaf = Convert.FromBase64String(leafText);
                proof = [.. proofText.Select(x => Convert.FromBase64String(x!))];
            }
            catch (FormatException)
            {
                problems.Add($"record {index}: malformed (a hash is not base64)");
                continue;
            }

            var leaf = MerkleHash.LeafHash(Encoding.UTF8.GetBytes(record));
            if (!leaf.AsSpan().SequenceEqual(claimedLeaf))
            {
                problems.Add($"record {index}: its text does not hash to its leaf hash");
                continue;
            }

            if (!MerkleVerifier.TryVerifyInclusion(leaf, (ulong)index, checkpoint.Size, proof, checkpoint.RootHash, out _))
            {
                problems.Add($"record {index}: not included in the signed checkpoint of size {checkpoint.Size}");
                continue;
            }

            cited["verified"] = true;
        }

        return problems;
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Every cited record of the report: placement and release records, and each covering report's record.</summary>
    private static IEnumerable<JsonObject> Cited(JsonObject report)
    {
        IEnumerable<JsonNode?> reports = report["reports"]?.AsArray() ?? [];
        foreach (var p in report["placements"]?.AsArray() ?? [])
        {
            foreach (var node in new[] { p?["placedRecord"], p?["releasedRecord"] })
            {
                if (node is JsonObject o)
                {
                    yield return o;
                }
            }

            reports = reports.Concat(p?["reports"]?.AsArray() ?? []);
        }

        foreach (var r in reports.ToList())
        {
            if (r?["audit"] is JsonObject o)
            {
                yield return o;
            }
        }
    }
}
