namespace TrustPool.Scheduling.Tests;

public class EvacuationTests
{
    private static HostView Source(HostTrust trust, int? validMinutes, params PlacedWorkload[] workloads) =>
        Fixture.Host("src", trust, validMinutes) with { Workloads = workloads, Used = new Resources(8, 16384, 200) };

    [Theory]
    [InlineData("untrusted", HostTrust.Untrusted, 10, "untrusted")]
    [InlineData("unknown", HostTrust.Unknown, 10, "unknown")]
    [InlineData("no report", HostTrust.Trusted, null, "unknown")]
    [InlineData("expired report", HostTrust.Trusted, -2, "report expired at 2026-11-27T11:58:00.0000000+00:00")]
    [InlineData("expired untrusted report", HostTrust.Untrusted, 0, "report expired at 2026-11-27T12:00:00.0000000+00:00")]
    public void Evacuate_HostNotTrusted_RequiredWorkloadsMoved(string description, HostTrust trust, int? validMinutes, string why)
    {
        _ = description;
        var hosts = new[]
        {
            Source(trust, validMinutes, Fixture.Workload("w1"), Fixture.Workload("w2", trust: TrustRequirement.Any), Fixture.Workload("w3", trust: TrustRequirement.Preferred)),
            Fixture.Host("dst"),
        };
        var plan = new Scheduler().Evacuate(hosts, Fixture.Now);
        Assert.Equal(Fixture.Now, plan.At);
        var item = Assert.Single(plan.Items);
        Assert.Equal(("w1", "src", why, "dst", "report-dst", (string?)null), (item.Workload.Id, item.SourceHost, item.Why, item.ProposedHost, item.ProposedReportId, item.Problem));
    }

    [Fact]
    public void Evacuate_AllTrusted_EmptyPlan()
    {
        var hosts = new[] { Fixture.Host("a") with { Workloads = [Fixture.Workload("w1")] }, Fixture.Host("b") };
        Assert.Empty(new Scheduler().Evacuate(hosts, Fixture.Now).Items);
    }

    [Fact]
    public void Evacuate_NoTrustedHostFits_NoCapacityProblem()
    {
        var hosts = new[]
        {
            Source(HostTrust.Untrusted, 10, Fixture.Workload("w1", resources: new Resources(64, 1024, 10))),
            Fixture.Host("small"),
            Fixture.Host("bad", HostTrust.Untrusted),
        };
        var item = Assert.Single(new Scheduler().Evacuate(hosts, Fixture.Now).Items);
        Assert.Null(item.ProposedHost);
        Assert.Null(item.ProposedReportId);
        Assert.Equal("no capacity: all 2 other host(s) rejected (CapacityFilter 1, TrustFilter 1)", item.Problem);
    }

    [Fact]
    public void Evacuate_CapacityTakenByEarlierItems_CountsForLaterOnes()
    {
        // dst has room for exactly one 4-vCPU workload (free 4 of 16), other has room for one more.
        var big = new Resources(4, 4096, 20);
        var hosts = new[]
        {
            Source(HostTrust.Untrusted, 10, Fixture.Workload("w1", resources: big), Fixture.Workload("w2", resources: big), Fixture.Workload("w3", resources: big)),
            Fixture.Host("dst") with { Used = new Resources(12, 8192, 100), Performance = 200 },
            Fixture.Host("other") with { Used = new Resources(12, 8192, 100), Performance = 100 },
        };
        var plan = new Scheduler().Evacuate(hosts, Fixture.Now);
        Assert.Equal(
            ["w1->dst", "w2->other", "w3->(no capacity: all 2 other host(s) rejected (CapacityFilter 2))"],
            plan.Items.Select(i => $"{i.Workload.Id}->{i.ProposedHost ?? "(" + i.Problem + ")"}"));
    }

    [Fact]
    public void Evacuate_AntiAffinityGroup_PlannedItemsCountAsRunning()
    {
        var hosts = new[]
        {
            Source(HostTrust.Untrusted, 10, Fixture.Workload("w1", anti: "db"), Fixture.Workload("w2", anti: "db")),
            Fixture.Host("a"),
            Fixture.Host("b"),
        };
        var plan = new Scheduler().Evacuate(hosts, Fixture.Now);
        Assert.Equal(["a", "b"], plan.Items.Select(i => i.ProposedHost));
    }

    [Fact]
    public void Evacuate_SourceHasRoom_NeverProposed()
    {
        // The only other host is full: the source itself (with room to spare) is never proposed.
        var hosts = new[]
        {
            Fixture.Host("src", HostTrust.Trusted, -1) with { Workloads = [Fixture.Workload("w1")] },
            Fixture.Host("full") with { Used = new Resources(16, 65536, 1000) },
        };
        var item = Assert.Single(new Scheduler().Evacuate(hosts, Fixture.Now).Items);
        Assert.StartsWith("no capacity:", item.Problem, StringComparison.Ordinal);
        Assert.StartsWith("report expired at", item.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Evacuate_TagsOfPlacedWorkload_Reapplied()
    {
        var w = Fixture.Workload("w1") with { Tags = [TagRequirement.Parse("country=FR")] };
        var hosts = new[]
        {
            Source(HostTrust.Untrusted, 10, w),
            Fixture.Host("de"),
            Fixture.Host("fr") with { Tags = new Dictionary<string, string> { ["country"] = "FR" } },
        };
        Assert.Equal("fr", Assert.Single(new Scheduler().Evacuate(hosts, Fixture.Now).Items).ProposedHost);
    }

    [Fact]
    public void Evacuate_ShuffledHosts_SamePlan()
    {
        var hosts = Synthetic.SyntheticHosts.Generate(300, Fixture.Now, seed: 5);
        var shuffled = (HostView[])hosts.Clone();
        new Random(9).Shuffle(shuffled);
        static string Text(EvacuationPlan p) => string.Join("\n", p.Items.Select(i => $"{i.SourceHost} {i.Workload.Id} {i.Why} {i.ProposedHost} {i.ProposedReportId} {i.Problem}"));
        var scheduler = new Scheduler();
        var plan = scheduler.Evacuate(hosts, Fixture.Now);
        Assert.NotEmpty(plan.Items);
        Assert.Equal(Text(plan), Text(scheduler.Evacuate(shuffled, Fixture.Now)));
    }
}
