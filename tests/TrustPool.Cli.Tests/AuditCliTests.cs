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

    [Fact]
    public async Task ComplianceReport_Workload_NoGapAndHtmlPage()
    {
        var html = Path.Combine(_f.Dir, "web-1.html");
        var r = await Task.Run(() => Cli.Run(["audit", "report", "--workload", "web-1", "--html", html, .. _f.Connection]));
        Assert.True(r.ExitCode == 0, r.ToString());
        var placement = Assert.Single(JsonNode.Parse(r.StdOut)!["placements"]!.AsArray())!;
        // Trusted before it was placed, released while the report was still valid: no gap.
        Assert.Empty(placement["gaps"]!.AsArray());
        Assert.All(placement["reports"]!.AsArray(), x => Assert.True(x!["audit"]!["verified"]!.GetValue<bool>()));

        var page = await File.ReadAllTextAsync(html);
        Assert.StartsWith("<!DOCTYPE html>", page, StringComparison.Ordinal);
        Assert.Contains("Compliance report: workload web-1", page, StringComparison.Ordinal);
        Assert.Contains("web-1 on au-1", page, StringComparison.Ordinal);
        Assert.Contains("No gap: the host was trusted throughout.", page, StringComparison.Ordinal);
        Assert.Contains(placement["reportId"]!.GetValue<string>(), page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ComplianceReport_HostInterval_GapBeforeFirstReport()
    {
        var from = DateTimeOffset.UtcNow.AddHours(-1);
        var to = DateTimeOffset.UtcNow.AddMinutes(1);
        var r = await Task.Run(() => Cli.Run(["audit", "report", "--host", "au-1", "--from", from.ToString("O"), "--to", to.ToString("O"), .. _f.Connection]));
        Assert.True(r.ExitCode == 0, r.ToString());
        var doc = JsonNode.Parse(r.StdOut)!;
        Assert.Equal("au-1", doc["host"]!.GetValue<string>());
        var reports = doc["reports"]!.AsArray();
        Assert.NotEmpty(reports);
        Assert.All(reports, x => Assert.Equal("trusted", x!["result"]!.GetValue<string>()));
        Assert.Single(doc["placements"]!.AsArray());
        // The host was enrolled minutes ago: the hour before its first report is a gap, and it ends where that report starts.
        var first = doc["gaps"]!.AsArray()[0]!;
        Assert.Equal("no valid trust report", first["reason"]!.GetValue<string>());
        Assert.Equal(DateTimeOffset.Parse(reports[0]!["validFrom"]!.GetValue<string>()), DateTimeOffset.Parse(first["to"]!.GetValue<string>()));
        Assert.True(DateTimeOffset.Parse(first["from"]!.GetValue<string>()) - from < TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData("workload=web-1&host=au-1", "workload")]
    [InlineData("host=au-1&from=2026-01-01T00:00:00Z", "to")]
    [InlineData("host=au-1&from=yesterday&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("host=au-1&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to")]
    [InlineData("workload=web-1&format=pdf", "format")]
    public async Task ComplianceEndpoint_BadQuery_400NamesTheField(string query, string field)
    {
        using var response = await _f.Harness.Http.GetAsync(new Uri($"/v1/audit/compliance?{query}", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 400, body);
        Assert.Contains(field, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComplianceEndpoint_Html_ServedWithStrictCsp()
    {
        using var response = await _f.Harness.Http.GetAsync(new Uri("/v1/audit/compliance?workload=web-1&format=html", UriKind.Relative));
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("web-1 on au-1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComplianceCheck_EditedRecordOrOtherKey_Refused()
    {
        using var response = await _f.Harness.Http.GetAsync(new Uri("/v1/audit/compliance?workload=web-1", UriKind.Relative));
        var original = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Empty(TrustPool.Audit.Compliance.ComplianceReportVerifier.Verify((JsonObject)original.DeepClone(), null));

        // The placement record now names another host, and its leaf hash is recomputed to match: the proof fails.
        var edited = (JsonObject)original.DeepClone();
        var placed = edited["placements"]![0]!["placedRecord"]!;
        var text = placed["record"]!.GetValue<string>().Replace("au-1", "au-9", StringComparison.Ordinal);
        placed["record"] = text;
        placed["leafHash"] = Convert.ToBase64String(MerkleHash.LeafHash(Encoding.UTF8.GetBytes(text)));
        var problem = Assert.Single(TrustPool.Audit.Compliance.ComplianceReportVerifier.Verify(edited, null));
        Assert.Contains($"record {placed["index"]}: not included", problem, StringComparison.Ordinal);

        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var wrongKey = TrustPool.Audit.Compliance.ComplianceReportVerifier.Verify((JsonObject)original.DeepClone(), other.ExportSubjectPublicKeyInfoPem());
        Assert.StartsWith("checkpoint:", Assert.Single(wrongKey), StringComparison.Ordinal);
    }
}
