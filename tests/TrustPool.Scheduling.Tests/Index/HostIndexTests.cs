using TrustPool.Scheduling.Synthetic;

namespace TrustPool.Scheduling.Tests.Index;

/// <summary>The scheduler's host index must never change an answer: stale slots, other comparers, many names, threads.</summary>
public class HostIndexTests
{
    [Fact]
    public void Place_HostReplacedInSameArray_NewViewUsed()
    {
        var scheduler = new Scheduler();
        var hosts = new[] { Fixture.Host("a") with { Performance = 200 }, Fixture.Host("b") };
        Assert.Equal("a", scheduler.Place(Fixture.Request(), hosts, Fixture.Now).Host);
        hosts[0] = hosts[0] with { Used = hosts[0].Capacity };
        var d = scheduler.Place(Fixture.Request(), hosts, Fixture.Now);
        Assert.Equal("b", d.Host);
        Assert.Equal("a:CapacityFilter", Assert.Single(d.Rejections).Host + ":" + d.Rejections[0].Filter);
        hosts[0] = hosts[0] with { Used = default, Trust = HostTrust.Untrusted };
        Assert.Equal("a:TrustFilter", scheduler.Place(Fixture.Request(), hosts, Fixture.Now).Rejections.Single() is var r ? r.Host + ":" + r.Filter : "");
    }

    [Fact]
    public void Place_HostTagsReplaced_TagIndexFollows()
    {
        var scheduler = new Scheduler();
        var de = Fixture.Request() with { Tags = [TagRequirement.Parse("country=DE")] };
        var hosts = new[] { Fixture.Host("a") with { Performance = 200 }, Fixture.Host("b"), Fixture.Host("c") with { Tags = new Dictionary<string, string> { ["country"] = "FR" } } };
        Assert.Equal("a", scheduler.Place(de, hosts, Fixture.Now).Host);
        hosts[0] = hosts[0] with { Tags = new Dictionary<string, string> { ["country"] = "FR" } };
        Assert.Equal("b", scheduler.Place(de, hosts, Fixture.Now).Host);
        hosts[2] = hosts[2] with { Tags = new Dictionary<string, string> { ["country"] = "DE" }, Performance = 300 };
        Assert.Equal("c", scheduler.Place(de, hosts, Fixture.Now).Host);
        Assert.Equal("c", scheduler.Place(de, hosts[1..], Fixture.Now).Host);
        Assert.Equal("b", scheduler.Place(de, hosts[..2], Fixture.Now).Host);
        hosts[1] = hosts[1] with { Tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["COUNTRY"] = "DE" }, Performance = 400 };
        Assert.Equal("b", scheduler.Place(de, hosts, Fixture.Now).Host);
    }

    [Fact]
    public void Place_ListShrinksAndGrows_OnlyCurrentHostsCount()
    {
        var scheduler = new Scheduler();
        var many = Enumerable.Range(0, 50).Select(i => Fixture.Host($"h{i:D2}") with { Performance = i }).ToArray();
        Assert.Equal("h49", scheduler.Place(Fixture.Request(), many, Fixture.Now).Host);
        Assert.Equal("h04", scheduler.Place(Fixture.Request(), many[..5], Fixture.Now).Host);
        Assert.Equal("h49", scheduler.Place(Fixture.Request(), many, Fixture.Now).Host);
    }

    [Theory]
    [InlineData("tags compare keys case-insensitively when the host's dictionary does", "country=DE", true)]
    [InlineData("values stay ordinal", "Country=de", false)]
    public void Place_HostDictionaryWithOtherComparer_HostComparerDecides(string description, string tag, bool pass)
    {
        _ = description;
        var host = Fixture.Host("h1") with
        {
            Tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["COUNTRY"] = "DE" },
            Pools = new Dictionary<string, HostTrust>(StringComparer.OrdinalIgnoreCase) { ["GOLD"] = HostTrust.Trusted },
        };
        var d = Fixture.PlaceOne(host, Fixture.Request() with { Tags = [TagRequirement.Parse(tag)], Pools = ["gold"] });
        Fixture.AssertOutcome(d, pass, "AssetTagFilter", null);
    }

    [Fact]
    public void Place_MoreThan64PoolsAndGroups_StillExact()
    {
        var pools = Enumerable.Range(0, 100).ToDictionary(i => $"pool-{i}", i => i % 2 == 0 ? HostTrust.Trusted : HostTrust.Untrusted, StringComparer.Ordinal);
        var workloads = Enumerable.Range(0, 80).Select(i => Fixture.Workload($"w{i}", affinity: $"aff-{i}", anti: $"anti-{i}")).ToArray();
        var hosts = new[]
        {
            Fixture.Host("a") with { Pools = pools, Workloads = workloads, Capacity = new Resources(1000, 1 << 30, 100000) },
            Fixture.Host("b") with { Pools = pools },
        };
        var scheduler = new Scheduler();
        Assert.Equal("a", scheduler.Place(Fixture.Request() with { Pools = ["pool-98"], AffinityGroup = "aff-79" }, hosts, Fixture.Now).Host);
        Assert.Equal("b", scheduler.Place(Fixture.Request() with { Pools = ["pool-98"], AntiAffinityGroup = "anti-77" }, hosts, Fixture.Now).Host);
        var d = scheduler.Place(Fixture.Request() with { Pools = ["pool-97"] }, hosts, Fixture.Now);
        Assert.False(d.Placed);
        Assert.Equal(2, d.Rejections.Count);
        Assert.All(d.Rejections, r => Assert.Equal("PoolFilter", r.Filter));
    }

    [Fact]
    public void Place_UnknownPoolOrTagValue_RejectedEverywhere()
    {
        var hosts = SyntheticHosts.Generate(100, Fixture.Now);
        var scheduler = new Scheduler();
        var d1 = scheduler.Place(Fixture.Request() with { Pools = ["platinum"] }, hosts, Fixture.Now);
        var d2 = scheduler.Place(Fixture.Request() with { Tags = [TagRequirement.Parse("country=XX")] }, hosts, Fixture.Now);
        Assert.Equal((100, 100), (d1.Rejections.Count, d2.Rejections.Count));
        Assert.Equal(100, d1.Rejections.ToList().Count);
        Assert.Equal(100, d2.Rejections.ToList().Count);
    }

    [Fact]
    public void Place_SharedSchedulerFromManyThreads_SameAnswers()
    {
        var hosts = SyntheticHosts.Generate(2_000, Fixture.Now, seed: 3);
        var requests = SyntheticHosts.Requests();
        var expected = requests.Select(r => new Scheduler().Place(r, hosts, Fixture.Now).Host).ToArray();
        var shared = new Scheduler();
        var lists = new[] { hosts, hosts.Reverse().ToArray() };
        Parallel.For(0, 200, i =>
        {
            var d = shared.Place(requests[i % requests.Length], lists[i % 2], Fixture.Now);
            Assert.Equal(expected[i % requests.Length], d.Host);
        });
    }
}
