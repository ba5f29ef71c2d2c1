using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Tests.Quotes;

public class ClockCheckTests
{
    [Theory]
    [InlineData("clock advanced", 100, 3, 0, 200, 3, 0, null)]
    [InlineData("same quote time", 100, 3, 0, 100, 3, 0, null)]
    [InlineData("reboot: clock may restart lower", 100, 3, 0, 5, 4, 0, null)]
    [InlineData("restart with lower clock", 100, 3, 0, 50, 3, 1, null)]
    [InlineData("clock went back", 100, 3, 0, 99, 3, 0, "clock")]
    [InlineData("resetCount went back", 100, 3, 0, 500, 2, 0, "resetCount")]
    [InlineData("restartCount went back", 100, 3, 2, 500, 3, 1, "restartCount")]
    public void Check_CounterSequences_RollbackNamedOrNone(string description, long c1, int r1, int s1, long c2, int r2, int s2, string? what)
    {
        var fault = ClockCheck.Check(new TpmsClockInfo((ulong)c1, (uint)r1, (uint)s1, true), new TpmsClockInfo((ulong)c2, (uint)r2, (uint)s2, true));
        Assert.True(what == fault?.What, description);
    }
}
