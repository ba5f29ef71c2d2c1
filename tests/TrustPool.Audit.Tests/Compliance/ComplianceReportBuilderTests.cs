using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Compliance;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;

namespace TrustPool.Audit.Tests.Compliance;

/// <summary>The pure compliance report: built from leaves handed in, checked by <see cref="ComplianceReportVerifier"/>.</summary>
public sealed class ComplianceReportBuilderTests : IDisposable
{
    private const string Origin = "trustpool.example/audit";
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly MerkleTree _tree = new();
    private readonly List<(string Type, ComplianceLeaf Leaf)> _leaves = [];

    public void Dispose() => _key.Dispose();

    private void Add(string type, DateTimeOffset time, JsonObject fields)
    {
        var bytes = new AuditRecord(type, 1, time, fields).ToCanonicalJson();
        var leaf = MerkleHash.LeafHash(bytes);
        _leaves.Add((type, new ComplianceLeaf((long)_tree.AppendLeafHash(leaf), Encoding.UTF8.GetString(bytes), leaf)));
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class Source(MerkleTree tree) : IComplianceSource
    {
        public List<string> PayloadsAskedFor { get; } = [];

        public Task<IReadOnlyList<byte[]>> InclusionProofAsync(long index, long size, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<byte[]>>(tree.InclusionProof((ulong)index, (ulong)size));

        public Task<string?> ReportPayloadAsync(string reportId, CancellationToken ct)
        {
            PayloadsAskedFor.Add(reportId);
            return Task.FromResult<string?>("""{"pools":[{"rules":[{"baseline":"fw","baselineVersion":3,"passed":true}]}]}""");
        }
    }

    private async Task<(JsonObject Report, Source Source)> BuildAsync(ComplianceQuery query, DateTimeOffset now)
    {
        var size = (long)_tree.Size;
        var note = new CheckpointSigner("trustpool.example", _key).Sign(new Checkpoint(Origin, (ulong)size, _tree.Root(), now)).Note;
        var log = new ComplianceLog(note, size, Origin, "trustpool.example", _key.ExportSubjectPublicKeyInfoPem());
        List<ComplianceLeaf> Of(string type) => [.. _leaves.Where(l => l.Type == type).Select(l => l.Leaf)];
        var leaves = new ComplianceLeaves(Of(AuditRecordTypes.PlacementMade), Of(AuditRecordTypes.PlacementReleased), Of(AuditRecordTypes.ReportIssued));
        var source = new Source(_tree);
        return (await ComplianceReportBuilder.BuildAsync(query, log, leaves, source, now, CancellationToken.None), source);
    }

    [Fact]
    public async Task BuildAsync_Workload_PlacementWithItsReportBaselinesAndProofsThatVerify()
    {
        Add(AuditRecordTypes.ReportIssued, s_t0, new JsonObject
        {
            ["host"] = "node1", ["reportId"] = "r1", ["result"] = "trusted", ["validFrom"] = Iso(s_t0), ["validTo"] = Iso(s_t0.AddHours(1)),
        });
        Add(AuditRecordTypes.PlacementMade, s_t0.AddMinutes(5), new JsonObject
        {
            ["placementId"] = "p1", ["workload"] = "vm-1", ["host"] = "node1", ["reportId"] = "r1",
        });

        var (report, source) = await BuildAsync(new ComplianceQuery("vm-1", null, null, null), s_t0.AddMinutes(30));

        var placement = Assert.Single(report["placements"]!.AsArray())!;
        Assert.Equal(("node1", "r1"), (placement["host"]!.GetValue<string>(), placement["reportId"]!.GetValue<string>()));
        var covering = Assert.Single(placement["reports"]!.AsArray())!;
        Assert.True(covering["reliedOn"]!.GetValue<bool>());
        Assert.Equal("fw", covering["baselines"]![0]!["name"]!.GetValue<string>());
        Assert.Empty(placement["gaps"]!.AsArray());
        Assert.Equal(["r1"], source.PayloadsAskedFor);
        Assert.Empty(ComplianceReportVerifier.Verify(report, null));
        Assert.True(placement["placedRecord"]!["verified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task BuildAsync_HostInterval_GapBeforeTheFirstReport()
    {
        Add(AuditRecordTypes.ReportIssued, s_t0.AddMinutes(10), new JsonObject
        {
            ["host"] = "node1", ["reportId"] = "r1", ["result"] = "trusted", ["validFrom"] = Iso(s_t0.AddMinutes(10)), ["validTo"] = Iso(s_t0.AddHours(2)),
        });

        var (report, _) = await BuildAsync(new ComplianceQuery(null, "node1", s_t0, s_t0.AddMinutes(30)), s_t0.AddHours(1));

        var gap = Assert.Single(report["gaps"]!.AsArray())!;
        Assert.Equal((Iso(s_t0), Iso(s_t0.AddMinutes(10)), "no valid trust report"),
            (gap["from"]!.GetValue<string>(), gap["to"]!.GetValue<string>(), gap["reason"]!.GetValue<string>()));
    }

    [Fact]
    public async Task BuildAsync_EditedRecordAfterBuilding_VerifierRefusesIt()
    {
        Add(AuditRecordTypes.PlacementMade, s_t0, new JsonObject { ["placementId"] = "p1", ["workload"] = "vm-1", ["host"] = "node1" });
        var (report, _) = await BuildAsync(new ComplianceQuery("vm-1", null, null, null), s_t0.AddMinutes(1));
        var cited = report["placements"]![0]!["placedRecord"]!;
        cited["record"] = cited["record"]!.GetValue<string>().Replace("node1", "node2", StringComparison.Ordinal);

        var problem = Assert.Single(ComplianceReportVerifier.Verify(report, null));

        Assert.Equal("record 0: its text does not hash to its leaf hash", problem);
    }

    [Theory]
    [InlineData("w", "h", "workload")]
    [InlineData(null, "h", "from")]
    [InlineData(null, null, "workload")]
    public void Validate_BadCombination_NamesTheField(string? workload, string? host, string field)
    {
        var e = Assert.Throws<ComplianceQueryException>(() => new ComplianceQuery(workload, host, null, null).Validate());

        Assert.Equal(field, e.Field);
    }
}
