using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Pools;
using TrustPool.Server.Api.Contracts;

namespace TrustPool.Server.Tests.Api.Contracts;

/// <summary>
/// The typed baseline and pool contracts must put on the wire exactly what the hand-built JSON did: the baseline
/// export is the stored canonical document (BaselineJson) with its version, a pool view is PoolJson's document plus
/// <c>trustedHosts</c>.
/// </summary>
public sealed class BaselinePoolContractsTests
{
    private static readonly DateTimeOffset s_created = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Baselines => ["full", "minimal"];

    private static Baseline Sample(string which) => which == "full"
        ? new Baseline
        {
            Name = "os-1",
            Kind = BaselineKind.Software,
            Version = 4,
            Description = "reference \"gold\" image <v2>",
            FromHost = "ref-1",
            Created = s_created,
            // Deliberately unsorted: the canonical form sorts PCRs by bank and index and maps by key.
            Pcrs = [new("sha256", 9, new string('b', 64)), new("sha1", 0, new string('a', 40)), new("sha256", 8, new string('c', 64))],
            ReferenceUefiLog = [1, 2, 3, 250],
            Facts = new Dictionary<string, string> { ["kernel"] = "6.8", ["bootLoader"] = "grub" },
            ImaAllowlist = new Dictionary<string, IReadOnlyList<string>> { ["/usr/bin/z"] = [new string('f', 64), new string('0', 64)], ["/etc/a"] = [new string('a', 64)] },
            Tags = new Dictionary<string, string> { ["rack"] = "r7", ["country"] = "DE" },
        }
        : new Baseline { Name = "p", Kind = BaselineKind.Platform, Created = s_created, Pcrs = [new("sha256", 0, new string('0', 64))] };

    [Theory]
    [MemberData(nameof(Baselines))]
    public void BaselineDocument_From_SerializesAsTheCanonicalDocument(string which)
    {
        var baseline = Sample(which);
        var typed = JsonSerializer.Serialize(BaselineDocument.From(baseline, 7), BaselineJsonContext.Default.BaselineDocument);

        Assert.Equal(BaselineJson.Serialize(baseline with { Version = 7 }), typed);
    }

    [Fact]
    public void BaselineDocument_Export_ParsesBackToTheSameDigest()
    {
        var baseline = Sample("full");
        var typed = JsonSerializer.Serialize(BaselineDocument.From(baseline, baseline.Version), BaselineJsonContext.Default.BaselineDocument);

        Assert.Equal(BaselineJson.Digest(baseline), BaselineJson.Digest(BaselineJson.Parse(typed)));
    }

    [Fact]
    public void PoolView_From_SerializesAsPoolJsonWithVersionAndSortedTrustedHosts()
    {
        var pool = PoolJson.Parse("""{"name":"eu","require":{"platform":["p2","p1"],"os":["o"],"tags":{"zone":"a","country":"DE"}}}""") with { Version = 3 };

        var typed = JsonNode.Parse(JsonSerializer.Serialize(PoolView.From(pool, ["h2", "h10", "h1"]), PoolJsonContext.Default.PoolView))!;

        // What PoolEndpoints built by hand before the contracts: PoolJson's document, then version and trustedHosts.
        var expected = JsonNode.Parse(PoolJson.Serialize(pool))!.AsObject();
        expected["version"] = 3;
        expected["trustedHosts"] = new JsonArray("h1", "h10", "h2");
        Assert.Equal(expected.ToJsonString(), typed.ToJsonString());
    }
}
