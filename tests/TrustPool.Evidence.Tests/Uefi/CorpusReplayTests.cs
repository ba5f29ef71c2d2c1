using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Uefi;

public class CorpusReplayTests
{
    private static readonly string[] s_ebs = ["go-attestation/attest/testdata/ebs_event_missing_eventlog"];

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
    [MemberData(nameof(Corpus.UefiLogData), MemberType = typeof(Corpus))]
    public void Replay_CorpusLog_EqualsExpectedPcrs(string path)
    {
        var expected = Corpus.ExpectedPcrs(path, out var source);
        Skip.If(expected is null, $"EXPECTED_PCRS.json lists no values for {path}");
        Skip.If(s_ebs.Contains(path), "covered by the ExitBootServices workaround tests");
        var log = TcgEventLog.Parse(Corpus.Load(path));

        var replay = EventLogReplay.Replay(log);

        var compared = 0;
        foreach (var bank in expected!.Banks)
        {
            if (!TpmHash.IsSupported(bank))
            {
                Assert.Contains(bank, replay.UnsupportedBanks);
                continue;
            }

            foreach (var (index, value) in expected.Bank(bank))
            {
                var actual = replay.Pcrs.Get(bank, index);
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
}
