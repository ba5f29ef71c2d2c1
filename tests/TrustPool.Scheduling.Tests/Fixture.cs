namespace TrustPool.Scheduling.Tests;

/// <summary>Small builders: a trusted host with room to spare, a plain request, a fixed clock.</summary>
internal static class Fixture
{
    public static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    public static HostView Host(string name, HostTrust trust = HostTrust.Trusted, int? validMinutes = 10) => new()
    {
        Name = name,
        Capacity = new Resources(16, 65536, 1000),
        Used = new Resources(4, 8192, 100),
        Trust = trust,
        ReportId = validMinutes is null ? null : "report-" + name,
        ValidTo = validMinutes is { } m ? Now.AddMinutes(m) : null,
        Pools = new Dictionary<string, HostTrust>(StringComparer.Ordinal) { ["gold"] = trust },
        Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["country"] = "DE" },
        Load = 0.5,
        Performance = 100,
        PowerEfficiency = 0.5,
    };

    public static WorkloadRequest Request(TrustRequirement trust = TrustRequirement.Required) => new()
    {
        Name = "vm-1",
        Resources = new Resources(2, 4096, 20),
        Trust = trust,
    };

    public static PlacedWorkload Workload(string id, string? affinity = null, string? anti = null, TrustRequirement trust = TrustRequirement.Required, Resources? resources = null) =>
        new(id, "wl-" + id, resources ?? new Resources(2, 4096, 20), trust, [], affinity, anti, null);

    public static PlacementDecision PlaceOne(HostView host, WorkloadRequest request, SchedulerOptions? options = null) =>
        new Scheduler(options).Place(request, [host], Now);

    /// <summary>Asserts the outcome of a single-host placement: placed, or rejected by <paramref name="filter"/> with a reason containing <paramref name="fragment"/>.</summary>
    public static void AssertOutcome(PlacementDecision d, bool pass, string filter, string? fragment)
    {
        if (pass)
        {
            Assert.True(d.Placed, d.Explain());
            Assert.Empty(d.Rejections);
            return;
        }

        Assert.False(d.Placed, d.Explain());
        var r = Assert.Single(d.Rejections);
        Assert.Equal(filter, r.Filter);
        if (fragment is not null)
        {
            Assert.Contains(fragment, r.Reason, StringComparison.Ordinal);
        }
    }
}
