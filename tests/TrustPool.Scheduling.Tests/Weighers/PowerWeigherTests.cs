namespace TrustPool.Scheduling.Tests.Weighers;

public class PowerWeigherTests
{
    private static readonly SchedulerOptions s_powerOnly = new() { LoadMultiplier = 0, PerformanceMultiplier = 0 };

    private static HostView Host(string name, double? score, double? idle, double? peak, int vcpus) =>
        Fixture.Host(name) with { PowerEfficiency = score, IdleWatts = idle, PeakWatts = peak, Capacity = new Resources(vcpus, 65536, 1000) };

    [Theory]
    [InlineData("score: higher wins", 0.2, null, null, 16, 0.9, null, null, 16, 1.0, "b")]
    [InlineData("watts: fewer marginal watts wins", null, 100.0, 500.0, 16, null, 100.0, 300.0, 16, 1.0, "b")]
    [InlineData("watts: the workload's share of a bigger host costs less", null, 100.0, 500.0, 16, null, 100.0, 900.0, 64, 1.0, "b")]
    [InlineData("score wins over watts when both are set", 0.9, 100.0, 900.0, 16, 0.1, 100.0, 110.0, 16, 1.0, "a")]
    [InlineData("idle alone is not enough for watts", null, 50.0, null, 16, null, 500.0, null, 16, 1.0, "a")]
    [InlineData("negative multiplier prefers the opposite", 0.2, null, null, 16, 0.9, null, null, 16, -1.0, "a")]
    [InlineData("equal scores: ordinal name breaks the tie", 0.5, null, null, 16, 0.5, null, null, 16, 1.0, "a")]
    [InlineData("zero multiplier: tie by name", 0.1, null, null, 16, 0.9, null, null, 16, 0.0, "a")]
    public void Place_Power_PrefersEfficientHost(
        string description, double? aScore, double? aIdle, double? aPeak, int aVcpus,
        double? bScore, double? bIdle, double? bPeak, int bVcpus, double multiplier, string winner)
    {
        _ = description;
        var hosts = new[] { Host("a", aScore, aIdle, aPeak, aVcpus), Host("b", bScore, bIdle, bPeak, bVcpus) };
        var d = new Scheduler(s_powerOnly with { PowerMultiplier = multiplier }).Place(Fixture.Request(), hosts, Fixture.Now);
        Assert.Equal(winner, d.Host);
    }

    [Fact]
    public void Place_PowerWeights_NormalisedTimesMultiplier()
    {
        var hosts = new[] { Host("a", 0.2, null, null, 16), Host("b", 0.9, null, null, 16), Host("c", 0.55, null, null, 16) };
        var d = new Scheduler(s_powerOnly with { PowerMultiplier = 3 }).Place(Fixture.Request(), hosts, Fixture.Now);
        Assert.Equal(["b", "c", "a"], d.Candidates.Select(c => c.Host));
        Assert.Equal([3.0, 1.5, 0.0], d.Candidates.Select(c => Math.Round(c.Weights["PowerWeigher"], 9)));
    }
}
