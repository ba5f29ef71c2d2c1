namespace TrustPool.Scheduling.Tests.Weighers;

public class PerformanceWeigherTests
{
    [Theory]
    [InlineData("faster wins", 100.0, 150.0, 1.0, "b")]
    [InlineData("negative multiplier: slower wins", 100.0, 150.0, -1.0, "a")]
    [InlineData("equal: name", 120.0, 120.0, 1.0, "a")]
    [InlineData("negative scores normalise too", -5.0, -1.0, 1.0, "b")]
    public void Place_Performance_PrefersFaster(string description, double a, double b, double multiplier, string winner)
    {
        _ = description;
        var hosts = new[] { Fixture.Host("b") with { Performance = b }, Fixture.Host("a") with { Performance = a } };
        var options = new SchedulerOptions { PowerMultiplier = 0, LoadMultiplier = 0, PerformanceMultiplier = multiplier };
        Assert.Equal(winner, new Scheduler(options).Place(Fixture.Request(), hosts, Fixture.Now).Host);
    }
}
