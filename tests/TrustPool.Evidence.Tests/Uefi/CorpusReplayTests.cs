using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Uefi;

public class CorpusReplayTests
{
    [SkippableTheory]
    [MemberData(nameof(Corpus.UefiLogData), MemberType = typeof(Corpus))]
    public void Parse_CorpusLog_ParsesEveryEventAndDecodesPayloads(string path)
    {
        var bytes = Corpus.Load(path);

        var log = TcgEventLog.Parse(bytes);

        Assert.NotEmpty(log.Events);
        Assert.Equal(Enumerable.Range(0, log.Events.Count), log.Events.Select(e => e.Number));
        foreach (var e in log.Events)
        {
            Assert.NotEmpty(e.TypeName);
            TcgEventDecoder.TryDecode(e, log.UintnBytes, out _);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Corpus.UefiLogsWithExpectedPcrs), MemberType = typeof(Corpus))]
    public void Replay_CorpusLog_EqualsExpectedPcrs(string path)
    {
        var expected = Corpus.ExpectedPcrs(path, out var source);
        Assert.NotNull(expected);
        var log = TcgEventLog.Parse(Corpus.Load(path));

        var replay = EventLogReplay.Replay(log);

        var compared = 0;
        foreach (var bank in expected!.Banks)
        {
            if (!BankHash.IsSupported(bank))
            {
                Assert.Contains(bank, replay.UnsupportedBanks);
                continue;
            }

            foreach (var (index, value) in expected.Bank(bank))
            {
                var actual = replay.Pcrs.Find(bank, index);
                if (actual is null)
                {
                    // PCRs without events (PCR10 = IMA, 17-22 DRTM) cannot be derived from the log.
                    Assert.True(log.Events.All(e => e.PcrIndex != (uint)index || e.EventType == TcgEventType.NoAction),
                        $"PCR{index} has events but no replayed value");
                    continue;
                }

                Assert.True(Hex.Lower(value) == Hex.Lower(actual), $"{path} {TpmHash.Name(bank)} PCR{index} ({source}): expected {Hex.Lower(value)} got {Hex.Lower(actual)}");
                compared++;
            }
        }

        Assert.True(compared > 0, "nothing was compared");
    }

    [SkippableTheory]
    [MemberData(nameof(Corpus.UefiLogData), MemberType = typeof(Corpus))]
    public void StreamingReplay_CorpusLog_EqualsObjectModelReplay(string path)
    {
        var bytes = Corpus.Load(path);
        var objects = EventLogReplay.Replay(TcgEventLog.Parse(bytes));

        var streaming = EventLogReplay.Replay(bytes.AsMemory());

        Assert.Equal(Describe(objects), Describe(streaming));
        Assert.Equal(objects.Pcr0InitialLocality, streaming.Pcr0InitialLocality);
        Assert.Equal(objects.Skipped.Select(s => (s.Event.Number, s.Bank)), streaming.Skipped.Select(s => (s.Event.Number, s.Bank)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void StreamingReplay_LargeRandomLogInParallel_EqualsObjectModelReplay(int seed)
    {
        var bytes = EventLogGenerator.Random(seed, 6000, TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256, TpmAlgorithmId.Sha384);

        var streaming = EventLogReplay.Replay(bytes.AsMemory());

        Assert.Equal(Describe(EventLogReplay.Replay(TcgEventLog.Parse(bytes))), Describe(streaming));
        Assert.Equal(3 * 16, streaming.Pcrs.Count);
    }

    private static string Describe(PcrReplay r) =>
        string.Join("\n", r.Pcrs.Banks.SelectMany(b => r.Pcrs.Bank(b).Select(p => $"{TpmHash.Name(b)}[{p.Key}]={Hex.Lower(p.Value)}")));
}
