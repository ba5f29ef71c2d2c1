namespace TrustPool.Scheduling.Tests.Filters;

public class CapacityFilterTests
{
    // Host: capacity 8 vCPU / 16384 MB / 100 GB, used 4 / 8192 / 50 -> free 4 / 8192 / 50.
    [Theory]
    [InlineData("exact fit on all three", 4, 8192, 50, true, null)]
    [InlineData("comfortably fits", 1, 1024, 10, true, null)]
    [InlineData("zero request", 0, 0, 0, true, null)]
    [InlineData("one vCPU too many", 5, 8192, 50, false, "vCPU: needs 5, free 4")]
    [InlineData("one MB too many", 4, 8193, 50, false, "memory: needs 8193 MB, free 8192 MB")]
    [InlineData("one GB too many", 4, 8192, 51, false, "disk: needs 51 GB, free 50 GB")]
    [InlineData("everything too big, all named", 64, 65536, 500, false, "vCPU: needs 64, free 4; memory: needs 65536 MB, free 8192 MB; disk: needs 500 GB, free 50 GB")]
    [InlineData("int.MaxValue vCPUs do not overflow into a pass", int.MaxValue, 1, 1, false, "vCPU")]
    public void Place_Resources_UsedPlusRequestWithinCapacity(string description, int vcpus, long memoryMb, long diskGb, bool pass, string? reason)
    {
        _ = description;
        var host = Fixture.Host("h1") with { Capacity = new Resources(8, 16384, 100), Used = new Resources(4, 8192, 50) };
        var request = Fixture.Request() with { Resources = new Resources(vcpus, memoryMb, diskGb) };
        Fixture.AssertOutcome(Fixture.PlaceOne(host, request), pass, "CapacityFilter", reason);
    }

    [Fact]
    public void Place_OvercommittedHostZeroRequest_Rejected()
    {
        var host = Fixture.Host("h1") with { Capacity = new Resources(8, 16384, 100), Used = new Resources(9, 8192, 50) };
        var d = Fixture.PlaceOne(host, Fixture.Request() with { Resources = default });
        Fixture.AssertOutcome(d, false, "CapacityFilter", "free -1");
    }

    [Theory]
    [InlineData(4, 8192, 50, true)]
    [InlineData(5, 8192, 50, false)]
    [InlineData(4, 8193, 50, false)]
    [InlineData(4, 8192, 51, false)]
    public void Resources_Fits_ExactFitFits(int vcpus, long memoryMb, long diskGb, bool fits)
    {
        var free = new Resources(8, 16384, 100) - new Resources(4, 8192, 50);
        Assert.Equal(fits, free.Fits(new Resources(vcpus, memoryMb, diskGb)));
        Assert.Equal(new Resources(8, 16384, 100), free + new Resources(4, 8192, 50));
    }
}
