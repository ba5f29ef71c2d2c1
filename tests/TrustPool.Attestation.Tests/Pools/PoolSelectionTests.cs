using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Pools;

namespace TrustPool.Attestation.Tests.Pools;

public class PoolSelectionTests
{
    private static Baseline B(string name, params (string Bank, int Index)[] pcrs) => new()
    {
        Name = name,
        Kind = BaselineKind.Platform,
        Pcrs = [.. pcrs.Select(p => new ExpectedPcr(p.Bank, p.Index, p.Bank == "sha1" ? new string('0', 40) : new string('0', 64)))],
    };

    [Fact]
    public void Required_BaselinesOfSeveralPools_UnionPerBankInAlgorithmOrder()
    {
        var baselines = new[] { B("p1", ("sha256", 0), ("sha256", 7)), B("o1", ("sha256", 8), ("sha1", 9)), B("unused", ("sha256", 20)) };
        Pool[] pools = [new("a", new PoolRequirement { Platform = ["p1", "missing"] }), new("b", new PoolRequirement { Os = ["o1"], Software = ["s"] })];

        var selection = PoolSelection.Required(pools, n => baselines.FirstOrDefault(b => b.Name == n));

        Assert.Equal("sha1:9+sha256:0,7,8,10", selection.ToString());
    }

    [Fact]
    public void Required_NothingExpected_FallsBackToSha256Pcr0To9()
    {
        Pool[] pools = [new("tags-only", new PoolRequirement { Tags = new Dictionary<string, string> { ["a"] = "b" } })];

        Assert.Equal("sha256:0,1,2,3,4,5,6,7,8,9", PoolSelection.Required(pools, _ => null).ToString());
        Assert.Equal("sha256:0,1,2,3,4,5,6,7,8,9", PoolSelection.Required([], _ => null).ToString());
    }
}
