using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Evidence.Tests.Replay;

/// <summary>Issue 13, hole 5: which events a replay binds to the quote (EventLogVerification.VerifiedEvents).</summary>
public class VerifiedEventsTests
{
    private static readonly SimulatedBoot s_boot = new();

    private static (TcgEventLog Log, PcrValues Replayed) Boot(params TpmAlgorithmId[] banks)
    {
        var log = TcgEventLog.Parse(EventLogGenerator.PlausibleBoot(new EventLogBuilder(banks), s_boot).ToArray());
        return (log, EventLogReplay.Replay(log).Pcrs);
    }

    private static PcrValues Quote(PcrValues from, TpmAlgorithmId bank, params int[] indices)
    {
        var q = new PcrValues();
        foreach (var i in indices)
        {
            q.Set(bank, i, from.Find(bank, i) ?? new byte[TpmHash.DigestSize(bank)]);
        }

        return q;
    }

    [Fact]
    public void Verify_Sha1OnlyLogAgainstSha256Quote_MatchesVacuouslyButExplainsNothing()
    {
        var (log, _) = Boot(TpmAlgorithmId.Sha1);
        var quoted = new PcrValues();
        for (var i = 0; i < 10; i++)
        {
            quoted.Set(TpmAlgorithmId.Sha256, i, new byte[32]);
        }

        var v = EventLogVerifier.Verify(log, quoted);

        Assert.True(v.Matches);
        Assert.False(v.ExplainsQuote);
        Assert.False(v.CarriesQuotedBank);
        Assert.Empty(v.VerifiedPcrs);
        Assert.Empty(v.VerifiedEvents);
    }

    [Fact]
    public void Verify_QuoteOfPcr0To7_OnlyEventsOfThosePcrsInAQuotedBankAreVerified()
    {
        var (log, replayed) = Boot(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256);

        var v = EventLogVerifier.Verify(log, Quote(replayed, TpmAlgorithmId.Sha256, 0, 1, 2, 3, 4, 5, 6, 7, 17));

        Assert.True(v.ExplainsQuote);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (TpmAlgorithmId.Sha256, i)), v.VerifiedPcrs);
        Assert.NotEmpty(v.VerifiedEvents);
        Assert.All(v.VerifiedEvents, e => Assert.InRange(e.PcrIndex, 0u, 7u));
        Assert.DoesNotContain(v.VerifiedEvents, e => e.EventType == TcgEventType.NoAction);
        Assert.Equal(log.Events.Count(e => e.PcrIndex <= 7 && e.EventType != TcgEventType.NoAction), v.VerifiedEvents.Count);
    }

    [Fact]
    public void Verify_EventWhosePayloadIsNotItsDigest_NotVerifiedAlthoughItsPcrReplays()
    {
        var b = new EventLogBuilder(TpmAlgorithmId.Sha256);
        b.AddMeasured(4, TcgEventType.EfiAction, "Calling EFI Application from Boot Option"u8, "something else"u8);
        b.AddSeparator(4);
        var log = TcgEventLog.Parse(b.ToArray());

        var v = EventLogVerifier.Verify(log, Quote(EventLogReplay.Replay(log).Pcrs, TpmAlgorithmId.Sha256, 4));

        Assert.True(v.ExplainsQuote);
        var only = Assert.Single(v.VerifiedEvents);
        Assert.Equal(TcgEventType.Separator, only.EventType);
    }

    [Fact]
    public void Verify_MismatchingPcr_ItsEventsAreNotVerified()
    {
        var (log, replayed) = Boot(TpmAlgorithmId.Sha256);
        var quoted = Quote(replayed, TpmAlgorithmId.Sha256, 0, 7);
        quoted.Set(TpmAlgorithmId.Sha256, 7, new byte[32]);

        var v = EventLogVerifier.Verify(log, quoted);

        Assert.False(v.Matches);
        Assert.Equal([(TpmAlgorithmId.Sha256, 0)], v.VerifiedPcrs);
        Assert.All(v.VerifiedEvents, e => Assert.Equal(0u, e.PcrIndex));
    }
}
