namespace TrustPool.Scheduling.Tests.Filters;

public class AffinityFilterTests
{
    private static HostView[] Hosts() =>
    [
        Fixture.Host("a") with { Workloads = [Fixture.Workload("w1", affinity: "web")] },
        Fixture.Host("b"),
        Fixture.Host("c") with { Workloads = [Fixture.Workload("w2", anti: "db"), Fixture.Workload("w3", affinity: "cache")] },
    ];

    [Theory]
    [InlineData("affinity group runs on a: only a", "web", null, "a", "b,c")]
    [InlineData("affinity group runs nowhere: any host", "new", null, "a,b,c", "")]
    [InlineData("affinity group runs on c", "cache", null, "c", "a,b")]
    [InlineData("anti-affinity group on c: not c", null, "db", "a,b", "c")]
    [InlineData("anti-affinity group runs nowhere", null, "fresh", "a,b,c", "")]
    [InlineData("affinity-group membership is not anti-affinity membership", null, "web", "a,b,c", "")]
    [InlineData("both: affinity cache on c, anti db on c", "cache", "db", "", "a,b,c")]
    public void Place_Groups_AffinityAndAntiAffinity(string description, string? affinity, string? anti, string passing, string rejected)
    {
        _ = description;
        var scheduler = new Scheduler();
        var hosts = Hosts();
        var request = Fixture.Request() with { AffinityGroup = affinity, AntiAffinityGroup = anti };
        var d = scheduler.Place(request, hosts, Fixture.Now);
        var expectedRejected = rejected.Split(',', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expectedRejected, d.Rejections.Select(r => r.Host));
        Assert.All(d.Rejections, r => Assert.Equal("AffinityFilter", r.Filter));
        var expectedPassing = passing.Split(',', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expectedPassing.Length > 0, d.Placed);
        Assert.Equal(expectedPassing, d.Candidates.Select(c => c.Host).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Place_AntiAffinity_ReasonNamesTheWorkload()
    {
        var d = new Scheduler().Place(Fixture.Request() with { AntiAffinityGroup = "db" }, Hosts(), Fixture.Now);
        Assert.Contains("anti-affinity group 'db': already runs workload 'wl-w2' (w2)", d.Rejections.Single().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Place_AffinityGroupOnlyOnUntrustedHost_NoPlacement()
    {
        // The group runs on a host that trust rejects: the workload still may not go elsewhere (Nova's semantics).
        var hosts = new[] { Fixture.Host("a", HostTrust.Untrusted) with { Workloads = [Fixture.Workload("w1", affinity: "web")] }, Fixture.Host("b") };
        var d = new Scheduler().Place(Fixture.Request() with { AffinityGroup = "web" }, hosts, Fixture.Now);
        Assert.False(d.Placed);
        Assert.Equal(["a:TrustFilter", "b:AffinityFilter"], d.Rejections.Select(r => r.Host + ":" + r.Filter));
    }
}
