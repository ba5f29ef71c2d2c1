using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Audit;
using TrustPool.Server.Storage;
using TrustPool.Server.Tests.EndToEnd;

namespace TrustPool.Server.Tests.Audit;

/// <summary>Issue 7, service side: the Merkle audit log written with the events it records, checkpoints and proofs over HTTPS.</summary>
[Trait("Category", "Integration")]
public abstract class AuditLogServiceTests
{
    private static readonly SimulatedBoot s_golden = new();

    protected abstract string Provider { get; }

    /// <summary>A service with one enrolled host, the golden baselines and pool, one report, one placement made and released.</summary>
    public static async Task<ServiceHarness> PopulatedAsync(string provider)
    {
        var h = await ServiceHarness.StartAsync(provider, o => o with { CheckpointIntervalSeconds = 0 });
        var host = h.AddSoftwareHost("au-1", s_golden);
        await h.EnrollAsync(host, new Dictionary<string, string> { ["country"] = "DE" });
        await h.OkAsync(HttpMethod.Put, "/v1/hosts/au-1/inventory", new JsonObject
        {
            ["vcpus"] = 8, ["memoryMb"] = 16384, ["diskGb"] = 200, ["idleWatts"] = 80, ["peakWatts"] = 300, ["load"] = 0.1, ["performance"] = 1.0,
        });
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "au-1");
        Assert.Equal("trusted", (await h.AttestAsync("au-1"))["trust"]!.GetValue<string>());
        var placed = await h.OkAsync(HttpMethod.Post, "/v1/placements", new JsonObject
        {
            ["name"] = "web-1",
            ["resources"] = new JsonObject { ["vcpus"] = 2, ["memoryMb"] = 1024, ["diskGb"] = 10 },
            ["trust"] = "required",
            ["pools"] = new JsonArray("golden"),
        });
        await h.OkAsync(HttpMethod.Delete, $"/v1/placements/{placed["id"]!.GetValue<string>()}");
        return h;
    }

    public static async Task<List<JsonNode>> EntriesAsync(ServiceHarness h)
    {
        var all = new List<JsonNode>();
        while (true)
        {
            var page = await h.OkAsync(HttpMethod.Get, $"/v1/audit/entries?from={all.Count}");
            var entries = page["entries"]!.AsArray();
            all.AddRange(entries.Select(e => e!));
            if (entries.Count == 0 || all.Count >= page["size"]!.GetValue<long>())
            {
                return all;
            }
        }
    }

    private static async Task<(CheckpointVerifier Verifier, Checkpoint Checkpoint)> CheckpointAsync(ServiceHarness h)
    {
        var pem = await h.Http.GetStringAsync(new Uri("/v1/audit/key", UriKind.Relative));
        var key = ECDsa.Create();
        key.ImportFromPem(pem);
        var verifier = new CheckpointVerifier(AuditLog.DefaultOrigin, key, AuditLog.DefaultOrigin);
        var note = await h.Http.GetStringAsync(new Uri("/v1/audit/checkpoint", UriKind.Relative));
        return (verifier, verifier.Verify(note));
    }

    [SkippableFact]
    public async Task EnrollBaselinePoolAttestPlace_WritesRecordsInOrder_ReportInSameTransaction()
    {
        await using var h = await PopulatedAsync(Provider);
        var entries = await EntriesAsync(h);
        var types = entries.Select(e => e["type"]!.GetValue<string>()).ToList();
        string[] expected = [AuditRecordTypes.HostEnrolled, AuditRecordTypes.BaselineChanged, AuditRecordTypes.PoolChanged, AuditRecordTypes.ReportIssued,
            AuditRecordTypes.PlacementMade, AuditRecordTypes.PlacementReleased];
        var firsts = expected.Select(t => types.IndexOf(t)).ToList();
        Assert.True(firsts.All(i => i >= 0) && firsts.SequenceEqual(firsts.Order()), string.Join(", ", types));
        Assert.Equal(AuditRecordTypes.PlacementReleased, types[^1]);

        // Every leaf is its record's canonical bytes, indexed densely from 0.
        for (var i = 0; i < entries.Count; i++)
        {
            Assert.Equal(i, entries[i]["index"]!.GetValue<long>());
            var bytes = Encoding.UTF8.GetBytes(entries[i]["record"]!.GetValue<string>());
            Assert.Equal(entries[i]["leafHash"]!.GetValue<string>(), Convert.ToBase64String(MerkleHash.LeafHash(bytes)));
            Assert.Equal(entries[i]["type"]!.GetValue<string>(), AuditRecordEncoding.Decode(bytes).Type);
        }

        // Each report row has exactly one report.issued leaf whose digest is SHA-256 of the stored JWS, and vice versa.
        await using var tx = await h.Server.Context.Store.BeginAsync();
        var reports = (await tx.Connection.QueryAsync<(string Id, string Jws)>(new CommandDefinition("SELECT id, jws FROM reports", transaction: tx.Transaction))).ToList();
        var issued = (await tx.ListAuditLeavesOfTypeAsync(AuditRecordTypes.ReportIssued))
            .Select(l => AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(l.RecordJson)).Fields).ToList();
        Assert.NotEmpty(reports);
        Assert.Equal(reports.Count, issued.Count);
        foreach (var (id, jws) in reports)
        {
            var fields = Assert.Single(issued, f => f["reportId"]!.GetValue<string>() == id);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jws))), fields["jwsSha256"]!.GetValue<string>());
            Assert.Equal("au-1", fields["host"]!.GetValue<string>());
        }

        var placement = AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(entries[^2]["record"]!.GetValue<string>()));
        Assert.Equal("web-1", placement.Fields["workload"]!.GetValue<string>());
        Assert.Equal("au-1", placement.Fields["host"]!.GetValue<string>());
        Assert.Contains(placement.Fields["reportId"]!.GetValue<string>(), reports.Select(r => r.Id));
    }

    [SkippableFact]
    public async Task RolledBackTransaction_LeavesNoTrace()
    {
        await using var h = await PopulatedAsync(Provider);
        var s = h.Server.Context;
        long before;
        await using (var tx = await s.Store.BeginAsync())
        {
            before = await tx.GetAuditSizeAsync();
            Assert.True(await tx.DeleteHostAsync("au-1"));
            tx.Audit(AuditRecords.HostRemoved(null, "au-1", null, s.Now));
        }

        // Neither the change nor its record: the host is still there and the log did not grow.
        Assert.NotNull(await s.Store.GetHostAsync("au-1"));

        Assert.Equal(before, (await EntriesAsync(h)).Count);
        // The next append reuses the index and the tree stays consistent.
        Assert.Equal("trusted", (await h.AttestAsync("au-1"))["trust"]!.GetValue<string>());
        var (_, cp) = await CheckpointAsync(h);
        Assert.Equal((ulong)before + 1, cp.Size);
        var range = new CompactRange();
        foreach (var e in await EntriesAsync(h))
        {
            range.AppendLeafData(Encoding.UTF8.GetBytes(e["record"]!.GetValue<string>()));
        }

        Assert.Equal(cp.RootHash, range.Root());
    }

    [SkippableFact]
    public async Task InclusionAndConsistencyProofs_VerifyAgainstSignedCheckpoints()
    {
        await using var h = await PopulatedAsync(Provider);
        var (verifier, cp1) = await CheckpointAsync(h);
        var entries = await EntriesAsync(h);
        Assert.Equal((ulong)entries.Count, cp1.Size);
        for (var i = 0; i < entries.Count; i++)
        {
            var proof = await h.OkAsync(HttpMethod.Get, $"/v1/audit/proof/inclusion?leaf={i}&size={cp1.Size}");
            var leaf = MerkleHash.LeafHash(Encoding.UTF8.GetBytes(entries[i]["record"]!.GetValue<string>()));
            Assert.Equal(Convert.ToBase64String(leaf), proof["leafHash"]!.GetValue<string>());
            MerkleVerifier.VerifyInclusion(leaf, (ulong)i, cp1.Size, Hashes(proof), cp1.RootHash);
        }

        Assert.Equal("trusted", (await h.AttestAsync("au-1"))["trust"]!.GetValue<string>());
        Assert.Equal("trusted", (await h.AttestAsync("au-1"))["trust"]!.GetValue<string>());
        var (_, cp2) = await CheckpointAsync(h);
        Assert.Equal(cp1.Size + 2, cp2.Size);
        var consistency = await h.OkAsync(HttpMethod.Get, $"/v1/audit/proof/consistency?from={cp1.Size}&to={cp2.Size}");
        CheckpointVerifier.VerifyConsistencyBetween(cp1, cp2, Hashes(consistency));
        var sizes = (await h.OkAsync(HttpMethod.Get, "/v1/audit/checkpoints"))["checkpoints"]!.AsArray().Select(c => c!["size"]!.GetValue<long>()).ToList();
        Assert.Contains((long)cp1.Size, sizes);
        Assert.Contains((long)cp2.Size, sizes);
        foreach (var c in (await h.OkAsync(HttpMethod.Get, "/v1/audit/checkpoints"))["checkpoints"]!.AsArray())
        {
            verifier.Verify(c!["note"]!.GetValue<string>());
        }

        // Out of range: 400 problems.
        foreach (var path in new[]
        {
            $"/v1/audit/proof/inclusion?leaf={cp2.Size}&size={cp2.Size}",
            $"/v1/audit/proof/inclusion?leaf=0&size={cp2.Size + 1}",
            "/v1/audit/proof/inclusion?leaf=-1&size=1",
            "/v1/audit/proof/inclusion?size=1",
            $"/v1/audit/proof/consistency?from=2&to=1",
            $"/v1/audit/proof/consistency?from=0&to={cp2.Size + 1}",
            $"/v1/audit/entries?from={cp2.Size + 1}",
        })
        {
            var (status, problem) = await h.SendAsync(HttpMethod.Get, path);
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {status}");
            Assert.NotNull(problem?["type"]);
        }
    }

    [SkippableFact]
    public async Task Checkpoint_NotResignedWithinInterval()
    {
        await using var h = await ServiceHarness.StartAsync(Provider, o => o with { CheckpointIntervalSeconds = 3600 });
        await h.EnrollAsync(h.AddSoftwareHost("au-2", s_golden));
        var (_, first) = await CheckpointAsync(h);
        Assert.Equal(2UL, first.Size); // the first start's admin token, the enrollment
        await h.AttestAsync("au-2");
        var (_, second) = await CheckpointAsync(h);
        Assert.True(first.SameAs(second));
    }

    [SkippableFact]
    public async Task EvacuationPlanAndHostRemoval_AreRecorded_ReadingThePlanIsNot()
    {
        await using var h = await PopulatedAsync(Provider);
        var before = (await EntriesAsync(h)).Count;
        Assert.Empty((await h.OkAsync(HttpMethod.Get, "/v1/evacuations"))["items"]!.AsArray());
        Assert.Equal(before, (await EntriesAsync(h)).Count);
        await h.OkAsync(HttpMethod.Post, "/v1/placements", new JsonObject
        {
            ["name"] = "db-1",
            ["resources"] = new JsonObject { ["vcpus"] = 1, ["memoryMb"] = 512, ["diskGb"] = 1 },
            ["trust"] = "required",
            ["pools"] = new JsonArray("golden"),
        });
        ServiceHarness.Reboot(h.Hosts["au-1"], s_golden with { FirmwareVolume = "implant"u8.ToArray() });
        Assert.Equal("untrusted", (await h.AttestAsync("au-1"))["trust"]!.GetValue<string>());
        Assert.Single((await h.OkAsync(HttpMethod.Get, "/v1/evacuations"))["items"]!.AsArray());
        var plan = await h.OkAsync(HttpMethod.Post, "/v1/evacuations");
        Assert.Single(plan["items"]!.AsArray());
        await h.OkAsync(HttpMethod.Delete, "/v1/hosts/au-1");

        var types = (await EntriesAsync(h)).Skip(before).Select(e => e["type"]!.GetValue<string>()).ToList();
        Assert.Equal([AuditRecordTypes.PlacementMade, AuditRecordTypes.ReportIssued, AuditRecordTypes.EvacuationPlanned, AuditRecordTypes.HostRemoved], types);
        var evacuation = AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes((await EntriesAsync(h))[before + 2]["record"]!.GetValue<string>()));
        Assert.Equal("db-1", evacuation.Fields["plan"]!["items"]![0]!["workload"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task Siem_ReceivesEachRecordAfterCommit()
    {
        // Nothing listens on the target: lines stay in the disk queue, in order, where the test reads them.
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var h = await ServiceHarness.StartAsync(Provider, o => o with { Syslog = $"tcp://127.0.0.1:{port}" });
        await h.EnrollAsync(h.AddSoftwareHost("au-3", s_golden));
        var entries = await EntriesAsync(h);
        var lines = h.Server.Context.Siem!.Queue.Peek(100).Select(l => l.Line).ToList();
        var enrolled = Assert.Single(lines, l => l.Contains("type=\"host.enrolled\"", StringComparison.Ordinal));
        Assert.Contains("host=\"au-3\"", enrolled, StringComparison.Ordinal);
        Assert.Contains($"auditIndex=\"{entries.Count - 1}\"", enrolled, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TwoWritersAndARollback_CachedRightEdgeNeverServesAStaleTree()
    {
        // Two stores on one database, as two service instances would be; each caches the right edge it committed.
        await using var h = await PopulatedAsync(Provider);
        var s = h.Server.Context;
        await using var other = await TrustStore.OpenAsync(h.Options.Database, h.Options.DataDirectory);
        async Task AppendAsync(ITrustStore store, string name, bool commit)
        {
            await using var tx = await store.BeginAsync();
            tx.Audit(AuditRecords.HostRemoved(null, name, null, s.Now), AuditRecords.HostRemoved(null, name + "-b", null, s.Now));
            if (commit)
            {
                await tx.CommitAsync();
            }
        }

        for (var i = 0; i < 5; i++)
        {
            // Had the rolled-back append been cached, the log would reach that size again (mine) with other leaves
            // and the other writer would build on the wrong edge.
            await AppendAsync(other, $"rolled-back-{i}", commit: false);
            await AppendAsync(s.Store, $"mine-{i}", commit: true);
            await AppendAsync(other, $"theirs-{i}", commit: true);
        }

        var entries = await EntriesAsync(h);
        Assert.Contains(entries, e => e["record"]!.GetValue<string>().Contains("theirs-4-b", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e["record"]!.GetValue<string>().Contains("rolled-back", StringComparison.Ordinal));
        var range = new CompactRange();
        foreach (var e in entries)
        {
            range.AppendLeafData(Encoding.UTF8.GetBytes(e["record"]!.GetValue<string>()));
        }

        var (_, cp) = await CheckpointAsync(h);
        Assert.Equal((ulong)entries.Count, cp.Size);
        Assert.Equal(range.Root(), cp.RootHash);
        for (var leaf = 0; leaf < entries.Count; leaf++)
        {
            var proof = await h.OkAsync(HttpMethod.Get, $"/v1/audit/proof/inclusion?leaf={leaf}&size={entries.Count}");
            MerkleVerifier.VerifyInclusion(Convert.FromBase64String(entries[leaf]["leafHash"]!.GetValue<string>()), (ulong)leaf, cp.Size, Hashes(proof), cp.RootHash);
        }
    }

    private static byte[][] Hashes(JsonNode node) => [.. node["proof"]!.AsArray().Select(x => Convert.FromBase64String(x!.GetValue<string>()))];
}

public sealed class AuditLogServiceSqliteTests : AuditLogServiceTests
{
    protected override string Provider => "sqlite";
}

public sealed class AuditLogServicePostgresTests : AuditLogServiceTests
{
    protected override string Provider => "postgres";
}
