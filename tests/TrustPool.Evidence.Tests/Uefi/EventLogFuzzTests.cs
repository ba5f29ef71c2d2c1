using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;

namespace TrustPool.Evidence.Tests.Uefi;

public class EventLogFuzzTests
{
    /// <summary>Parse, replay, decode every payload, extract facts and check digests: the whole read path.</summary>
    internal static void ReadEverything(byte[] bytes)
    {
        var log = TcgEventLog.Parse(bytes);
        EventLogReplay.Replay(log);
        foreach (var e in log.Events)
        {
            TcgEventDecoder.TryDecode(e, log.UintnBytes, out _);
        }

        BootFacts.Extract(log);
        EventDigestCheck.Find(log);
        EventLogReplay.Replay(bytes.AsMemory());
    }

    [SkippableTheory]
    [MemberData(nameof(Corpus.UefiLogData), MemberType = typeof(Corpus))]
    public void Parse_MutatedCorpusLog_OnlyEventLogFormatExceptionWithOffset(string path)
    {
        var original = Corpus.Load(path);
        ReadEverything(original);

        Fuzz.Run(path, original, 70, ReadEverything);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(36)]
    public void Parse_TruncatedBuilderLog_ThrowsWithOffsetInsideInput(int keep)
    {
        var bytes = new EventLogBuilder(Tpm.TpmAlgorithmId.Sha256).AddSeparator(0).ToArray();
        var truncated = bytes[..^(keep + 1)];

        var ex = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(truncated));

        Assert.InRange(ex.Offset, 0, truncated.Length);
        Assert.NotEmpty(ex.Field);
    }
}
