using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Merkle;
using TrustPool.Server.Tests.Audit;
using TrustPool.Server.Tests.EndToEnd;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary>A populated service (enroll, baselines, pool, report, placement) and one export of its audit log.</summary>
public sealed class AuditServiceFixture : IAsyncLifetime
{
    public ServiceHarness Harness { get; private set; } = null!;

    public string Dir { get; private set; } = "";

    public string ExportFile { get; private set; } = "";

    public ProcessResult ExportResult { get; private set; } = null!;

    public string[] Connection => ["--server", Harness.Server.Addresses[0].ToString(), "--token", Harness.AdminToken, "--ca-file", Harness.Server.CaCertificatePath];

    public async Task InitializeAsync()
    {
        Harness = await AuditLogServiceTests.PopulatedAsync("sqlite");
        Dir = TestTemp.CreateDirectory("trustpool-audit-cli-").FullName;
        ExportFile = Path.Combine(Dir, "audit.json");
        ExportResult = await Task.Run(() => Cli.Run(["audit", "export", "--out", ExportFile, .. Connection]));
    }

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>Issue 7: <c>trustpool audit export</c> and offline <c>trustpool audit verify</c>, and what tampering it catches.</summary>
[Trait("Category", "Integration")]
public sealed class AuditCliTests : IClassFixture<AuditServiceFixture>
{
    private readonly AuditServiceFixture _f;

    public AuditCliTests(AuditServiceFixture f) => _f = f;

    private JsonObject Export()
    {
        Assert.True(_f.ExportResult.ExitCode == 0, _f.ExportResult.ToString());
        return JsonNode.Parse(File.ReadAllText(_f.ExportFile))!.AsObject();
    }

    private string Write(JsonNode doc, string name)
    {
        var path = Path.Combine(_f.Dir, name);
        File.WriteAllText(path, doc.ToJsonString());
        return path;
    }

    [Fact]
    public void ExportThenVerify_Valid()
    {
        var doc = Export();
        var entries = doc["entries"]!.AsArray();
        Assert.True(entries.Count >= 6, doc.ToJsonString());
        Assert.Equal(entries.Count, doc["size"]!.GetValue<long>());
        Assert.Contains("BEGIN PUBLIC KEY", doc["publicKey"]!.GetValue<string>(), StringComparison.Ordinal);
        var r = Cli.Run("audit", "verify", _f.ExportFile);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"valid: {entries.Count} records", r.StdOut, StringComparison.Ordinal);
        var json = Cli.Run("audit", "verify", _f.ExportFile, "--json");
        Assert.True(JsonNode.Parse(json.StdOut)!["valid"]!.GetValue<bool>(), json.ToString());
    }

    [Theory]
    [InlineData("edit")]
    [InlineData("edit-and-rehash")]
    [InlineData("drop")]
    [InlineData("insert")]
    [InlineData("swap")]
    public void TamperedExport_Exit1NamingTheRecord(string tampering)
    {
        var doc = Export();
        var entries = doc["entries"]!.AsArray();
        // The first report record: it names the host, has records before it and after it.
        var i = entries.Select(e => e!["type"]!.GetValue<string>()).ToList().IndexOf("report.issued");
        Assert.InRange(i, 1, entries.Count - 2);
        string expect;
        switch (tampering)
        {
            case "edit":
            case "edit-and-rehash":
                var record = entries[i]!["record"]!.GetValue<string>();
                var edited = record.Replace("au-1", "au-9", StringComparison.Ordinal);
                Assert.NotEqual(record, edited);
                entries[i]!["record"] = edited;
                if (tampering == "edit-and-rehash")
                {
                    entries[i]!["leafHash"] = Convert.ToBase64String(MerkleHash.LeafHash(Encoding.UTF8.GetBytes(edited)));
                    expect = "checkpoint size";
                }
                else
                {
                    expect = $"record {i}: edited";
                }

                break;
            case "drop":
                entries.RemoveAt(i);
                expect = $"record {i}: missing";
                break;
            case "insert":
                entries.Insert(i, entries[i - 1]!.DeepClone());
                expect = $"record {i}: inserted";
                break;
            default:
                var a = entries[i]!.DeepClone();
                entries[i] = entries[i + 1]!.DeepClone();
                entries[i + 1] = a;
                expect = $"record {i}: missing or out of order";
                break;
        }

        var r = Cli.Run("audit", "verify", Write(doc, $"tampered-{tampering}.json"));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains(expect, r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherKey_Exit1_Unparseable_Exit2()
    {
        Export();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = Path.Combine(_f.Dir, "other.pem");
        File.WriteAllText(pem, other.ExportSubjectPublicKeyInfoPem());
        var r = Cli.Run("audit", "verify", _f.ExportFile, "--public-key", pem);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("tampered: checkpoint: no signature by", r.StdOut, StringComparison.Ordinal);

        var garbage = Path.Combine(_f.Dir, "garbage.json");
        File.WriteAllText(garbage, "{ not json");
        Assert.Equal(2, Cli.Run("audit", "verify", garbage).ExitCode);
    }

    [Fact]
    public async Task LaterCheckpoint_RevealsRecordsMissingFromTheExport()
    {
        var doc = Export();
        // The log grows after the export; a checkpoint fetched independently covers more than the export holds.
        Assert.Equal("trusted", (await _f.Harness.AttestAsync("au-1"))["trust"]!.GetValue<string>());
        var note = await _f.Harness.Http.GetStringAsync(new Uri("/v1/audit/checkpoint", UriKind.Relative));
        var cpFile = Path.Combine(_f.Dir, "later.checkpoint");
        await File.WriteAllTextAsync(cpFile, note);
        var n = doc["entries"]!.AsArray().Count;
        var r = await Task.Run(() => Cli.Run("audit", "verify", _f.ExportFile, "--checkpoint", cpFile));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains($"record {n}: records {n}..", r.StdOut, StringComparison.Ordinal);
    }
    [Fact]
    public async Task ComplianceReport_PlacementHostReportsBaselines_ProofsVerify()
    {
        Export();
        var r = await Task.Run(() => Cli.Run(["audit", "report", "--workload", "web-1", .. _f.Connection]));
        Assert.True(r.ExitCode == 0, r.ToString());
        var doc = JsonNode.Parse(r.StdOut)!;
        using var key = ECDsa.Create();
        key.ImportFromPem(doc["publicKey"]!.GetValue<string>());
        var cp = new TrustPool.Audit.Checkpoints.CheckpointVerifier("trustpool/audit", key).Verify(doc["checkpoint"]!.GetValue<string>());
        var placement = Assert.Single(doc["placements"]!.AsArray())!;
        Assert.Equal("au-1", placement["host"]!.GetValue<string>());
        Assert.NotNull(placement["releasedRecord"]);
        var reports = placement["reports"]!.AsArray();
        var relied = Assert.Single(reports, x => x!["reliedOn"]!.GetValue<bool>())!;
        Assert.Equal(placement["reportId"]!.GetValue<string>(), relied["reportId"]!.GetValue<string>());
        Assert.Equal("trusted", relied["result"]!.GetValue<string>());
        Assert.NotEmpty(relied["baselines"]!.AsArray());
        foreach (var cited in reports.Select(x => x!["audit"]!).Append(placement["placedRecord"]!).Append(placement["releasedRecord"]!))
        {
            var leaf = MerkleHash.LeafHash(Encoding.UTF8.GetBytes(cited["record"]!.GetValue<string>()));
            var proof = cited["inclusionProof"]!.AsArray().Select(x => Convert.FromBase64String(x!.GetValue<string>())).ToArray();
            MerkleVerifier.VerifyInclusion(leaf, cited["index"]!.GetValue<ulong>(), cp.Size, proof, cp.RootHash);
        }

        var none = await Task.Run(() => Cli.Run(["audit", "report", "--workload", "no-such-workload", .. _f.Connection]));
        Assert.Equal(1, none.ExitCode);
    }
}
