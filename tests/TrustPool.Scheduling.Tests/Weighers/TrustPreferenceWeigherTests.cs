namespace TrustPool.Scheduling.Tests.Weighers;

public class TrustPreferenceWeigherTests
{
    // a: untrusted but faster (performance 150); b: trusted, performance 100.
    [Theory]
    [InlineData("preferred: trust bonus beats performance", TrustRequirement.Preferred, 10.0, 10, "b", true)]
    [InlineData("any: trust ignored", TrustRequirement.Any, 10.0, 10, "a", false)]
    [InlineData("required: only the trusted host passes", TrustRequirement.Required, 10.0, 10, "b", false)]
    [InlineData("preferred, multiplier 0", TrustRequirement.Preferred, 0.0, 10, "a", true)]
    [InlineData("preferred, b's report expired: no bonus", TrustRequirement.Preferred, 10.0, -1, "a", true)]
    public void Place_Preferred_TrustedHostBonus(string description, TrustRequirement trust, double multiplier, int bValidMinutes, string winner, bool weighed)
    {
        _ = description;
        var hosts = new[]
        {
            Fixture.Host("a", HostTrust.Untrusted) with { Performance = 150 },
            Fixture.Host("b", HostTrust.Trusted, bValidMinutes) with { Performance = 100 },
        };
        var d = new Scheduler(new SchedulerOptions { TrustPreferenceMultiplier = multiplier }).Place(Fixture.Request(trust), hosts, Fixture.Now);
        Assert.Equal(winner, d.Host);
        Assert.Equal(weighed, d.Winner!.Weights.ContainsKey("TrustPreferenceWeigher"));
        Assert.Equal(d.Winner.Total, d.Winner.Weights.Values.Sum(), 9);
    }
}
