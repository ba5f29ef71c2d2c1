using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Quotes;

/// <summary>A quote whose clock or counters went backwards relative to an earlier verified quote of the same TPM.</summary>
public sealed record ClockRollback(TpmsClockInfo Previous, TpmsClockInfo Current, string What) : QuoteFault
{
    public override string Describe() =>
        $"{What} went backwards: previous clock={Previous.Clock} reset={Previous.ResetCount} restart={Previous.RestartCount}, " +
        $"now clock={Current.Clock} reset={Current.ResetCount} restart={Current.RestartCount}";
}

/// <summary>
/// Rollback check between two verified quotes of one TPM (TPM 2.0 Part 1, 36 "Clocks and timers"): resetCount
/// never decreases; within one reset, restartCount never decreases; within one reset and restart, clock never
/// decreases. Only meaningful for keys in the endorsement/storage hierarchies, whose counters are not obfuscated.
/// </summary>
public static class ClockCheck
{
    public static ClockRollback? Check(TpmsClockInfo previous, TpmsClockInfo current)
    {
        if (current.ResetCount < previous.ResetCount)
        {
            return new ClockRollback(previous, current, "resetCount");
        }

        if (current.ResetCount == previous.ResetCount)
        {
            if (current.RestartCount < previous.RestartCount)
            {
                return new ClockRollback(previous, current, "restartCount");
            }

            if (current.RestartCount == previous.RestartCount && current.Clock < previous.Clock)
            {
                return new ClockRollback(previous, current, "clock");
            }
        }

        return null;
    }
}
