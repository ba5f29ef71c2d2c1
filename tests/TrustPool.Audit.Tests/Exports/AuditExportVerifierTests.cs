using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Exports;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;

namespace TrustPool.Audit.Tests.Exports;

/// <summary>Offline verification of an audit export, on documents built here with a real signer and tree.</summary>
public sealed class AuditExportVerifierTests : IDisposable
{
    private const string Origin = "trustpool.example/audit";
    private const string KeyName = "trustpool.example";
    private const int Records = 6;
    private static readonly DateTimeOffset s_time = new(2026, 11, 27, 13, 0, 0, TimeSpan.Zero);

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _key.Dispose();

    /// <summary>An export of <see cref="Records"/> report records with signed checkpoints at sizes 2 and 6.</summary>
    private JsonObject Export()
    {
        var signer = new CheckpointSigner(KeyName, _key);
        var tree = new MerkleTree();
        var entries = new JsonArray();
        var checkpoints = new JsonArray();
        for (var i = 0; i < Records; i++)
        {
            var record = new AuditRecord(AuditRecordTypes.ReportIssued, 1, s_time.AddSeconds(i), new JsonObject { ["host"] = $"node{i}", ["result"] = "trusted" });
            var bytes = record.ToCanonicalJson();
            var leaf = MerkleHash.LeafHash(bytes);
            tree.AppendLeafHash(leaf);
            entries.Add(new JsonObject { ["index"] = i, ["type"] = record.Type, ["record"] = Encoding.UTF8.GetString(bytes), ["leafHash"] = Convert.ToBase64String(leaf) });
            if (i + 1 is 2 or Records)
            {
                var note = signer.Sign(new Checkpoint(Origin, (ulong)(i + 1), tree.Root(), s_time.AddSeconds(i))).Note;
                checkpoints.Add(new JsonObject { ["size"] = i + 1, ["note"] = note });
            }
        }

        return new JsonObject
        {
            ["format"] = AuditExport.Format,
            ["origin"] = Origin,
            ["keyName"] = KeyName,
            ["publicKey"] = _key.ExportSubjectPublicKeyInfoPem(),
            ["size"] = Records,
            ["checkpoints"] = checkpoints,
            ["entries"] = entries,
        };
    }

    private static AuditExportVerification Verify(JsonObject doc, string? publicKeyPem = null, params string[] extra) =>
        AuditExportVerifier.Verify(doc.ToJsonString(), extra, publicKeyPem);

    [Fact]
    public void Verify_ValidExport_CoversEveryRecord()
    {
        var result = Verify(Export());

        Assert.True(result.Valid, string.Join("; ", result.Problems));
        Assert.Equal((Records, 2, (long)Records), (result.Entries, result.Checkpoints, result.VerifiedSize));
    }

    [Fact]
    public void Verify_EditedRecordKeepingItsLeafHash_RecordEditedAtItsIndex()
    {
        var doc = Export();
        var entry = doc["entries"]![3]!;
        entry["record"] = entry["record"]!.GetValue<string>().Replace("node3", "node9", StringComparison.Ordinal);

        var result = Verify(doc);

        Assert.False(result.Valid);
        var edited = Assert.Single(result.Problems, p => p.Kind == AuditExportProblemKind.RecordEdited);
        Assert.Equal(3, edited.RecordIndex);
        Assert.StartsWith("record 3: edited", edited.Message, StringComparison.Ordinal);
        // The edited bytes no longer rebuild the root signed at size 6 (the one at size 2 still holds).
        Assert.Contains(result.Problems, p => p.Kind == AuditExportProblemKind.RootMismatch && p.Message.StartsWith("checkpoint size 6:", StringComparison.Ordinal));
        Assert.Equal(2, result.VerifiedSize);
    }

    [Fact]
    public void Verify_EditedAndRehashedLeaf_RootMismatch()
    {
        var doc = Export();
        var entry = doc["entries"]![1]!;
        var edited = entry["record"]!.GetValue<string>().Replace("node1", "node7", StringComparison.Ordinal);
        entry["record"] = edited;
        entry["leafHash"] = Convert.ToBase64String(MerkleHash.LeafHash(Encoding.UTF8.GetBytes(edited)));

        var result = Verify(doc);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(AuditExportProblemKind.RootMismatch, problem.Kind);
        Assert.StartsWith("checkpoint size 2:", problem.Message, StringComparison.Ordinal);
        Assert.Equal(0, result.VerifiedSize);
    }

    [Fact]
    public void Verify_OtherPublicKey_EveryCheckpointRefusedAndNothingVerified()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var result = Verify(Export(), other.ExportSubjectPublicKeyInfoPem());

        Assert.Equal(2, result.Problems.Count(p => p.Kind == AuditExportProblemKind.BadCheckpoint && p.Message.StartsWith("checkpoint: no signature by", StringComparison.Ordinal)));
        Assert.Contains(result.Problems, p => p.Kind == AuditExportProblemKind.NoCheckpoint);
        Assert.Equal((0, 0L), (result.Checkpoints, result.VerifiedSize));
    }

    [Fact]
    public void Verify_TruncatedExport_RecordsMissingFromTheFirstAbsentIndex()
    {
        var doc = Export();
        var entries = doc["entries"]!.AsArray();
        entries.RemoveAt(entries.Count - 1);
        entries.RemoveAt(entries.Count - 1);

        var result = Verify(doc);

        var problem = Assert.Single(result.Problems);
        Assert.Equal((AuditExportProblemKind.RecordsMissing, (long?)4), (problem.Kind, problem.RecordIndex));
        Assert.Equal("record 4: records 4..5 are missing (a signed checkpoint covers 6 records)", problem.Message);
        Assert.Equal(2, result.VerifiedSize);
    }

    [Fact]
    public void Verify_DroppedRecord_RecordMissingAtItsPosition()
    {
        var doc = Export();
        doc["entries"]!.AsArray().RemoveAt(2);

        var result = Verify(doc);

        Assert.Contains(result.Problems, p => p.Kind == AuditExportProblemKind.RecordMissing && p.RecordIndex == 2);
    }

    [Theory]
    [InlineData("{ not json", "not JSON")]
    [InlineData("{\"format\":\"something-else/1\"}", "not a trustpool-audit-export/1 document")]
    public void Verify_Unparseable_ThrowsFormatException(string text, string expected)
    {
        var e = Assert.Throws<AuditExportFormatException>(() => AuditExportVerifier.Verify(text, [], null));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_PublicKeyNotPem_ThrowsFormatException()
    {
        Assert.Throws<AuditExportFormatException>(() => Verify(Export(), "not a key"));
    }

    // Shapes of the 25 afl++ crash inputs (docs/FUZZING.md): each threw ArgumentException, InvalidOperationException or
    // PlatformNotSupportedException out of Verify before the fix; now each is a format error.
    [Theory]
    [InlineData("dup-record")]
    [InlineData("dup-root")]
    [InlineData("entry-not-object")]
    [InlineData("checkpoint-not-object")]
    [InlineData("entries-not-array")]
    [InlineData("root-array")]
    [InlineData("key-name-space")]
    public void Verify_MalformedShape_ThrowsFormatException(string shape)
    {
        var doc = Export();
        var json = doc.ToJsonString();
        switch (shape)
        {
            case "dup-record":
                json = json.Replace("\"record\":", "\"record\":\"x\",\"record\":", StringComparison.Ordinal);
                break;
            case "dup-root":
                json = json.Replace("\"origin\":", "\"origin\":\"x\",\"origin\":", StringComparison.Ordinal);
                break;
            case "entry-not-object":
                doc["entries"]!.AsArray()[1] = 7;
                json = doc.ToJsonString();
                break;
            case "checkpoint-not-object":
                doc["checkpoints"]!.AsArray()[0] = "note";
                json = doc.ToJsonString();
                break;
            case "entries-not-array":
                doc["entries"] = "none";
                json = doc.ToJsonString();
                break;
            case "root-array":
                json = "[" + json + "]";
                break;
            case "key-name-space":
                doc["keyName"] = "has space";
                json = doc.ToJsonString();
                break;
        }

        Assert.Throws<AuditExportFormatException>(() => AuditExportVerifier.Verify(json, [], null));
    }

    [Fact]
    public void Verify_PublicKeyOnUnsupportedCurve_ThrowsFormatException()
    {
        // A secp256k1 SPKI (curve OID 1.3.132.0.10, zero point): whatever ImportFromPem throws for it is a format error.
        // (The fuzzer's input, a curve OpenSSL lacks, threw PlatformNotSupportedException; that case is in the corpus.)
        var doc = Export();
        doc["publicKey"] = "-----BEGIN PUBLIC KEY-----\nMFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n-----END PUBLIC KEY-----\n";

        Assert.Throws<AuditExportFormatException>(() => AuditExportVerifier.Verify(doc.ToJsonString(), [], null));
    }
}
