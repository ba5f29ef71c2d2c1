using System.Text;
using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Ima;

public class ImaReplayTests
{
    private const string LongList = "rust-keylime/keylime-agent/test-data/ima/ascii_runtime_measurements";

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(825)]
    public void ParseAscii_OneEntryPathAltered_TemplateHashMismatchNamesItsLine(int lineNumber)
    {
        var lines = File.ReadAllLines(Corpus.FullPath(LongList));
        var line = lines[lineNumber - 1];
        lines[lineNumber - 1] = line[..^1] + (line[^1] == 'x' ? 'y' : 'x');
        var log = ImaLog.ParseAscii(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));

        var result = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1]);

        var mismatch = Assert.Single(result.TemplateHashMismatches);
        Assert.Equal(lineNumber, mismatch.LineNumber);
        Assert.Equal(lineNumber - 1, mismatch.Index);
    }

    [SkippableFact]
    public void ParseBinary_OneFileDigestByteFlipped_TemplateHashMismatchNamesTheEntry()
    {
        var bytes = Corpus.Load("tpm2-tss/derived/sml-ima-ng-sha1.bin");
        var original = ImaLog.ParseBinary(bytes);
        var third = original.Entries[2];
        bytes[third.Offset + 4 + 20 + 4 + 6 + 4 + 4 + 8] ^= 0x01; // inside the d-ng digest of entry 3

        var result = ImaReplay.Replay(ImaLog.ParseBinary(bytes), [TpmAlgorithmId.Sha1]);

        var mismatch = Assert.Single(result.TemplateHashMismatches);
        Assert.Equal(3, mismatch.LineNumber);
    }

    [SkippableFact]
    public void Replay_ResumedFromSavedState_EqualsFullReplay()
    {
        var log = ImaLog.Parse(Corpus.Load(LongList));
        var banks = new[] { TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256 };
        var full = ImaReplay.Replay(log, banks);
        var head = ImaLog.ParseAscii(Encoding.UTF8.GetBytes(string.Join('\n', File.ReadAllLines(Corpus.FullPath(LongList)).Take(300)) + "\n"));
        var first = ImaReplay.Replay(head, banks);
        var tailLines = File.ReadAllLines(Corpus.FullPath(LongList)).Skip(300);
        var tail = ImaLog.ParseAscii(Encoding.UTF8.GetBytes(string.Join('\n', tailLines) + "\n"));

        var resumed = ImaReplay.Replay(tail, banks, new ImaReplayOptions { Resume = first.State, FirstEntryNumber = 300 });

        Assert.Equal(300, first.State.EntryCount);
        Assert.Equal(log.Entries.Count, resumed.State.EntryCount);
        Assert.Equal(log.Entries.Count - 300, resumed.EntriesReplayed);
        foreach (var bank in banks)
        {
            Assert.Equal(Hex.Lower(full.Pcrs.Find(bank, 10)!), Hex.Lower(resumed.Pcrs.Find(bank, 10)!));
        }
    }

    [SkippableFact]
    public void Replay_ResumeFromWholeListWithOverlap_SkipsEntriesAlreadyCounted()
    {
        var log = ImaLog.Parse(Corpus.Load(LongList));
        var first = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1], new ImaReplayOptions { QuotedPcr10 = null });
        var partial = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1],
            new ImaReplayOptions { QuotedPcr10 = new Dictionary<TpmAlgorithmId, byte[]> { [TpmAlgorithmId.Sha1] = PrefixValue(log, 500) } });

        var resumed = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1], new ImaReplayOptions { Resume = partial.State });

        Assert.Equal(500, partial.State.EntryCount);
        Assert.Equal(log.Entries.Count - 500, resumed.EntriesReplayed);
        Assert.Equal(Hex.Lower(first.Pcrs.Find(TpmAlgorithmId.Sha1, 10)!), Hex.Lower(resumed.Pcrs.Find(TpmAlgorithmId.Sha1, 10)!));
    }

    [SkippableFact]
    public void Replay_EntriesAppendedAfterQuote_StopsWhereQuotedValueIsReached()
    {
        var log = ImaLog.Parse(Corpus.Load(LongList));
        var quoted = PrefixValue(log, 700);

        var result = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1], new ImaReplayOptions { QuotedPcr10 = new Dictionary<TpmAlgorithmId, byte[]> { [TpmAlgorithmId.Sha1] = quoted } });

        Assert.True(result.QuotedReached);
        Assert.Equal(700, result.EntriesReplayed);
        Assert.Equal(log.Entries.Count - 700, result.EntriesAfterQuote);
        Assert.Equal(Hex.Lower(quoted), Hex.Lower(result.Pcrs.Find(TpmAlgorithmId.Sha1, 10)!));
    }

    [SkippableFact]
    public void Replay_QuotedValueNotInList_NotReached()
    {
        var log = ImaLog.Parse(Corpus.Load(LongList));

        var result = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1], new ImaReplayOptions { QuotedPcr10 = new Dictionary<TpmAlgorithmId, byte[]> { [TpmAlgorithmId.Sha1] = new byte[20] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } } });

        Assert.False(result.QuotedReached);
        Assert.Equal(log.Entries.Count, result.EntriesReplayed);
    }

    [SkippableFact]
    public void Replay_ViolationEntry_ExtendsAllOnesNotZeros()
    {
        var log = ImaLog.Parse(Corpus.Load("tpm2-tss/derived/sml-ima-sha1-invalidated.bin"));

        var result = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256]);

        Assert.True(log.Entries[0].IsViolation);
        Assert.Equal(1, result.Violations);
        var ff = Enumerable.Repeat((byte)0xFF, 20).ToArray();
        Assert.Equal(Hex.Lower(EventLogReplay.Extend(TpmAlgorithmId.Sha1, new byte[20], ff)), Hex.Lower(result.Pcrs.Find(TpmAlgorithmId.Sha1, 10)!));
    }

    [SkippableFact]
    public void Replay_Sha1PaddedConvention_ExtendsPaddedSha1TemplateHash()
    {
        var log = ImaLog.Parse(Corpus.Load("ima-evm-utils/tests/test_ascii_runtime_measurements"));
        var expected = new byte[32];
        foreach (var e in log.Entries)
        {
            var m = new byte[32];
            e.TemplateHash.CopyTo(m, 0);
            expected = EventLogReplay.Extend(TpmAlgorithmId.Sha256, expected, m);
        }

        var result = ImaReplay.Replay(log, [TpmAlgorithmId.Sha256], new ImaReplayOptions { Convention = ImaPcrConvention.Sha1Padded });

        Assert.Equal(Hex.Lower(expected), Hex.Lower(result.Pcrs.Find(TpmAlgorithmId.Sha256, 10)!));
    }

    [SkippableTheory]
    [InlineData("ima-evm-utils/tests/sample-binary_bios_measurements-pcrs-8-9", "ima-evm-utils/tests/sample-ascii_runtime_measurements-pcrs-8-9", 9)]
    [InlineData("ima-evm-utils/tests/test_binary_bios_measurements", "ima-evm-utils/tests/test_ascii_runtime_measurements", 7)]
    public void BootAggregate_FirmwareLogReplay_MatchesFirstImaEntry(string uefiLog, string imaLog, int expectedLastPcr)
    {
        var pcrs = EventLogReplay.Replay(TcgEventLog.Parse(Corpus.Load(uefiLog))).Pcrs.Bank(TpmAlgorithmId.Sha256);
        var entry = ImaLog.Parse(Corpus.Load(imaLog)).Entries[0];

        var last = ImaBootAggregate.Match(entry, TpmAlgorithmId.Sha256, pcrs);

        Assert.True(entry.IsBootAggregate);
        Assert.Equal(expectedLastPcr, last);
    }

    [SkippableFact]
    public void FileDigests_AsciiList_MapsPathsToDigests()
    {
        var log = ImaLog.Parse(Corpus.Load("ima-evm-utils/tests/test_ascii_runtime_measurements"));

        var map = log.FileDigests();

        Assert.Equal("sha256:4b1764ee112aa8b2a6ae9a3a2f1e272b6601681f610708497673cd49e5bd2f5c", map["/bin/sh"]);
        Assert.Equal(3, map.Count);
    }

    private static byte[] PrefixValue(ImaLog log, int count)
    {
        var v = new byte[20];
        foreach (var e in log.Entries.Take(count))
        {
            v = EventLogReplay.Extend(TpmAlgorithmId.Sha1, v, ImaReplay.Measurement(e, TpmAlgorithmId.Sha1, 20, ImaPcrConvention.BankHash));
        }

        return v;
    }
}
