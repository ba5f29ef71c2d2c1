using CsCheck;
using TrustPool.Scheduling.Synthetic;

namespace TrustPool.Scheduling.Tests;

public class SchedulerTests
{
    private static string Fingerprint(PlacementDecision d) =>
        string.Join("\n", new[] { d.Host ?? "-", d.ReportId ?? "-", d.ReportValidTo?.ToString("O") ?? "-" }
            .Concat(d.Candidates.Select(c => $"{c.Host} {c.Total:R} " + string.Join(",", c.Weights.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => $"{w.Key}={w.Value:R}"))))
            .Concat(d.Rejections.Select(r => r.ToString())));

    private static T[] Shuffle<T>(T[] items, int seed)
    {
        var copy = (T[])items.Clone();
        new Random(seed).Shuffle(copy);
        return copy;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Place_SameInputTwice_SameDecision(int request)
    {
        var hosts = SyntheticHosts.Generate(500, Fixture.Now, seed: 7);
        var r = SyntheticHosts.Requests()[request];
        var scheduler = new Scheduler();
        Assert.Equal(Fingerprint(scheduler.Place(r, hosts, Fixture.Now)), Fingerprint(scheduler.Place(r, hosts, Fixture.Now)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Place_ShuffledHosts_SameDecision(int shuffleSeed)
    {
        var hosts = SyntheticHosts.Generate(500, Fixture.Now, seed: 11);
        var scheduler = new Scheduler();
        foreach (var r in SyntheticHosts.Requests())
        {
            Assert.Equal(Fingerprint(scheduler.Place(r, hosts, Fixture.Now)), Fingerprint(scheduler.Place(r, Shuffle(hosts, shuffleSeed), Fixture.Now)));
        }
    }

    [Fact]
    public void Place_AllTied_SmallestOrdinalNameWins()
    {
        // Ordinal: "B" (0x42) < "a" (0x61) < "ä".
        var hosts = new[] { Fixture.Host("ä"), Fixture.Host("a"), Fixture.Host("B") };
        var d = new Scheduler().Place(Fixture.Request(), hosts, Fixture.Now);
        Assert.Equal(["B", "a", "ä"], d.Candidates.Select(c => c.Host));
        Assert.All(d.Candidates, c => Assert.Equal(0.0, c.Total));
    }

    [Fact]
    public void Place_PropertyOverRandomHostSets_DeterministicAndConsistent()
    {
        var scheduler = new Scheduler();
        Gen.Select(Gen.Int[0, 120], Gen.Int[1, 1_000_000], Gen.Int[0, 3], Gen.Int[1, 1000])
            .Sample((count, seed, request, shuffle) =>
            {
                var hosts = SyntheticHosts.Generate(count, Fixture.Now, seed);
                var r = SyntheticHosts.Requests()[request];
                var d = scheduler.Place(r, hosts, Fixture.Now);
                Assert.Equal(Fingerprint(d), Fingerprint(scheduler.Place(r, Shuffle(hosts, shuffle), Fixture.Now)));

                // Oracle: without affinity groups each host passes or fails on its own.
                var passing = hosts.Where(h => scheduler.Place(r, [h], Fixture.Now).Placed).ToArray();
                Assert.Equal(hosts.Length - passing.Length, d.Rejections.Count);
                // Count comes from the host index, the list from the filters on the views: they must agree.
                Assert.Equal(d.Rejections.Count, d.Rejections.ToList().Count);
                Assert.Equal(d.Rejections.Count, d.Rejections.Select(x => x.Host).Distinct().Count());
                Assert.Equal(passing.Length > 0, d.Placed);
                Assert.Equal(Math.Min(3, passing.Length), d.Candidates.Count);
                if (d.Placed)
                {
                    var winner = hosts.Single(h => h.Name == d.Host);
                    Assert.Equal(winner.ReportId, d.ReportId);
                    Assert.Equal(HostTrust.Trusted, winner.TrustAt(Fixture.Now));
                    Assert.DoesNotContain(d.Rejections, x => x.Host == d.Host);
                    Assert.True(d.Candidates.Zip(d.Candidates.Skip(1)).All(p => p.First.Total >= p.Second.Total));
                }
            }, iter: 60, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Explain_EveryRejectedHostWithItsFilter()
    {
        var now = Fixture.Now;
        var hosts = new[]
        {
            Fixture.Host("ok"),
            Fixture.Host("untrusted", HostTrust.Untrusted),
            Fixture.Host("expired", HostTrust.Trusted, -3),
            Fixture.Host("no-gold") with { Pools = new Dictionary<string, HostTrust> { ["gold"] = HostTrust.Untrusted } },
            Fixture.Host("in-dmz") with { Tags = new Dictionary<string, string> { ["country"] = "DE", ["zone"] = "dmz" } },
            Fixture.Host("full") with { Used = new Resources(16, 8192, 100) },
            Fixture.Host("same-group") with { Workloads = [Fixture.Workload("x", anti: "web")] },
        };
        var request = Fixture.Request() with
        {
            Pools = ["gold"],
            Tags = [TagRequirement.Parse("country=DE"), TagRequirement.Parse("!zone=dmz")],
            AntiAffinityGroup = "web",
        };
        var d = new Scheduler().Place(request, hosts, now);
        Assert.Equal("ok", d.Host);
        var expected = new Dictionary<string, string>
        {
            ["expired"] = "TrustFilter",
            ["full"] = "CapacityFilter",
            ["in-dmz"] = "AssetTagFilter",
            ["no-gold"] = "PoolFilter",
            ["same-group"] = "AffinityFilter",
            ["untrusted"] = "TrustFilter",
        };
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value)), d.Rejections.Select(r => (r.Host, r.Filter)));
        var text = d.Explain();
        Assert.Contains("placed on ok, relying on trust report report-ok", text, StringComparison.Ordinal);
        Assert.Contains("winner ok: total", text, StringComparison.Ordinal);
        Assert.Contains("rejected 6 host(s)", text, StringComparison.Ordinal);
        foreach (var r in d.Rejections)
        {
            Assert.Contains($"  {r.Host}: {r.Filter}: {r.Reason}\n", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Place_NoHosts_NotPlacedAndExplained()
    {
        var d = new Scheduler().Place(Fixture.Request(), [], Fixture.Now);
        Assert.False(d.Placed);
        Assert.Null(d.Winner);
        Assert.Empty(d.Candidates);
        Assert.Empty(d.Rejections);
        Assert.Contains("not placed", d.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void Place_NonListHostCollection_SameAsArray()
    {
        var hosts = SyntheticHosts.Generate(200, Fixture.Now, seed: 3);
        var r = SyntheticHosts.Requests()[0];
        var scheduler = new Scheduler();
        Assert.Equal(
            Fingerprint(scheduler.Place(r, hosts, Fixture.Now)),
            Fingerprint(scheduler.Place(r, hosts.ToList().AsReadOnly(), Fixture.Now)));
    }

    [Fact]
    public void Place_ManyHosts_ConstantAllocationPerDecision()
    {
        var scheduler = new Scheduler();
        var r = SyntheticHosts.Requests()[0];
        long Measure(HostView[] hosts)
        {
            scheduler.Place(r, hosts, Fixture.Now);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10; i++)
            {
                scheduler.Place(r, hosts, Fixture.Now);
            }

            return (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        }

        var small = Measure(SyntheticHosts.Generate(1_000, Fixture.Now));
        var large = Measure(SyntheticHosts.Generate(20_000, Fixture.Now));
        Assert.True(large < small + 512, $"1,000 hosts: {small} B/decision, 20,000 hosts: {large} B/decision");
        Assert.True(large < 4096, $"{large} B/decision");
    }
}
