namespace TrustPool.Scheduling.Tests.Weighers;

public class LoadWeigherTests
{
    [Theory]
    [InlineData("spread: least loaded", LoadStrategy.Spread, 1.0, "a", 1.0)]
    [InlineData("pack: most loaded", LoadStrategy.Pack, 1.0, "b", 1.0)]
    [InlineData("spread, multiplier 2", LoadStrategy.Spread, 2.0, "a", 2.0)]
    [InlineData("spread, negative multiplier acts like pack", LoadStrategy.Spread, -1.0, "b", 0.0)]
    [InlineData("multiplier 0: tie by name", LoadStrategy.Pack, 0.0, "a", 0.0)]
    public void Place_Load_SpreadOrPack(string description, LoadStrategy strategy, double multiplier, string winner, double winnerWeight)
    {
        _ = description;
        var hosts = new[] { Fixture.Host("c") with { Load = 0.5 }, Fixture.Host("b") with { Load = 0.8 }, Fixture.Host("a") with { Load = 0.2 } };
        var options = new SchedulerOptions { PowerMultiplier = 0, PerformanceMultiplier = 0, Load = strategy, LoadMultiplier = multiplier };
        var d = new Scheduler(options).Place(Fixture.Request(), hosts, Fixture.Now);
        Assert.Equal(winner, d.Host);
        Assert.Equal(winnerWeight, d.Winner!.Weights["LoadWeigher"], 9);
    }
}
