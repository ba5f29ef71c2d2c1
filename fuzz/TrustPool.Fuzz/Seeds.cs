using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Exports;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;

namespace TrustPool.Fuzz;

/// <summary>Valid seed documents made with the project's own writers (signed notes and exports need a key).</summary>
public static class Seeds
{
    private static readonly DateTimeOffset s_time = new(2026, 11, 27, 13, 0, 0, TimeSpan.Zero);

    public static void Write(string dir)
    {
        using var key = FuzzTargets.CheckpointKey();
        var signer = new CheckpointSigner(FuzzTargets.CheckpointKeyName, key);
        var tree = new MerkleTree();
        var entries = new JsonArray();
        var checkpoints = new JsonArray();
        const string origin = "fuzz.example/audit";
        for (var i = 0; i < 3; i++)
        {
            var record = new AuditRecord(AuditRecordTypes.ReportIssued, 1, s_time.AddSeconds(i), new JsonObject { ["host"] = $"node{i}" });
            var bytes = record.ToCanonicalJson();
            var leaf = MerkleHash.LeafHash(bytes);
            tree.AppendLeafHash(leaf);
            entries.Add(new JsonObject { ["index"] = i, ["type"] = record.Type, ["record"] = Encoding.UTF8.GetString(bytes), ["leafHash"] = Convert.ToBase64String(leaf) });
            var checkpoint = new Checkpoint(origin, (ulong)(i + 1), tree.Root(), s_time.AddSeconds(i));
            var note = signer.Sign(checkpoint).Note;
            checkpoints.Add(new JsonObject { ["size"] = i + 1, ["note"] = note });
            Put(dir, "checkpoint", $"note{i + 1}.txt", note);
            Put(dir, "checkpoint", $"text{i + 1}.txt", checkpoint.ToNoteText());
        }

        var export = new JsonObject
        {
            ["format"] = AuditExport.Format,
            ["origin"] = origin,
            ["keyName"] = FuzzTargets.CheckpointKeyName,
            ["publicKey"] = key.ExportSubjectPublicKeyInfoPem(),
            ["size"] = 3,
            ["checkpoints"] = checkpoints,
            ["entries"] = entries,
        };
        Put(dir, "audit-export", "export3.json", export.ToJsonString());
    }

    private static void Put(string dir, string target, string name, string text)
    {
        Directory.CreateDirectory(Path.Combine(dir, target));
        File.WriteAllText(Path.Combine(dir, target, name), text);
    }
}
