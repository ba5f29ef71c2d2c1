using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;

namespace TrustPool.Cli.Commands;

/// <summary>
/// Client-side check of a compliance report from the service: the checkpoint is signed by the expected key, and every
/// cited record hashes to its leaf and is included in that checkpoint's tree. Marks each cited record
/// <c>"verified": true</c> once checked; returns what failed (empty when everything holds).
/// </summary>
internal static class ComplianceCheck
{
    public static IReadOnlyList<string> Verify(JsonObject report, string? pinnedPublicKeyPem)
    {
        var problems = new List<string>();
        Checkpoint checkpoint;
        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pinnedPublicKeyPem ?? report["publicKey"]!.GetValue<string>());
            checkpoint = new CheckpointVerifier(report["keyName"]!.GetValue<string>(), key, report["origin"]!.GetValue<string>())
                .Verify(report["checkpoint"]!.GetValue<string>());
        }
        catch (Exception e) when (e is CheckpointException or CryptographicException or ArgumentException or InvalidOperationException or NullReferenceException)
        {
            return [$"checkpoint: {e.Message}"];
        }

        if (report["checkpointSize"]?.GetValue<long>() is not { } size || (ulong)size != checkpoint.Size)
        {
            problems.Add($"checkpointSize {report["checkpointSize"]} is not the signed size {checkpoint.Size}");
        }

        foreach (var cited in Cited(report))
        {
            var index = cited["index"]?.GetValue<long>() ?? -1;
            try
            {
                var leaf = MerkleHash.LeafHash(Encoding.UTF8.GetBytes(cited["record"]!.GetValue<string>()));
                if (!leaf.AsSpan().SequenceEqual(Convert.FromBase64String(cited["leafHash"]!.GetValue<string>())))
                {
                    problems.Add($"record {index}: its text does not hash to its leaf hash");
                    continue;
                }

                var proof = cited["inclusionProof"]!.AsArray().Select(x => Convert.FromBase64String(x!.GetValue<string>())).ToArray();
                if (index < 0 || !MerkleVerifier.TryVerifyInclusion(leaf, (ulong)index, checkpoint.Size, proof, checkpoint.RootHash, out var error))
                {
                    problems.Add($"record {index}: not included in the signed checkpoint of size {checkpoint.Size}");
                    continue;
                }

                cited["verified"] = true;
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or NullReferenceException)
            {
                problems.Add($"record {index}: malformed ({e.Message})");
            }
        }

        return problems;
    }

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
