namespace TrustPool.Scheduling.Tests.Filters;

public class PoolFilterTests
{
    [Theory]
    [InlineData("trusted for the pool", "gold=Trusted", "gold", 10, true, null)]
    [InlineData("untrusted for the pool", "gold=Untrusted", "gold", 10, false, "pool 'gold': untrusted")]
    [InlineData("unknown for the pool", "gold=Unknown", "gold", 10, false, "pool 'gold': trust unknown")]
    [InlineData("pool missing from the report", "silver=Trusted", "gold", 10, false, "not in report")]
    [InlineData("report expired", "gold=Trusted", "gold", -1, false, "expired at")]
    [InlineData("no report", "gold=Trusted", "gold", null, false, "no trust report")]
    [InlineData("both pools trusted", "gold=Trusted,silver=Trusted", "gold,silver", 10, true, null)]
    [InlineData("second pool untrusted", "gold=Trusted,silver=Untrusted", "gold,silver", 10, false, "pool 'silver'")]
    [InlineData("pool names are case-sensitive", "gold=Trusted", "Gold", 10, false, "pool 'Gold'")]
    [InlineData("no pools asked, expired report", "", "", -1, true, null)]
    public void Place_PoolTrust_EveryPoolMustBeTrusted(string description, string hostPools, string requested, int? validMinutes, bool pass, string? reason)
    {
        _ = description;
        var pools = hostPools.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => Enum.Parse<HostTrust>(p[1]), StringComparer.Ordinal);
        // Trust any: only the pool filter decides.
        var host = Fixture.Host("h1", HostTrust.Trusted, validMinutes) with { Pools = pools };
        var request = Fixture.Request(TrustRequirement.Any) with { Pools = requested.Split(',', StringSplitOptions.RemoveEmptyEntries) };
        Fixture.AssertOutcome(Fixture.PlaceOne(host, request), pass, "PoolFilter", reason);
    }

    [Fact]
    public void Place_UntrustedHostTrustedPool_TrustFilterNamedFirst()
    {
        var host = Fixture.Host("h1", HostTrust.Untrusted) with { Pools = new Dictionary<string, HostTrust> { ["gold"] = HostTrust.Untrusted } };
        var d = Fixture.PlaceOne(host, Fixture.Request() with { Pools = ["gold"] });
        Fixture.AssertOutcome(d, false, "TrustFilter", "untrusted");
    }
}
