using TrustPool.Evidence.Ima;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Ima;

public class ImaFuzzTests
{
    private static void ReadEverything(byte[] bytes)
    {
        var log = ImaLog.Parse(bytes);
        ImaReplay.Replay(log, [TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256]);
        ImaReplay.Replay(log, [TpmAlgorithmId.Sha384], new ImaReplayOptions { Convention = ImaPcrConvention.Sha1Padded });
        log.FileDigests();
    }

    [SkippableTheory]
    [MemberData(nameof(Corpus.ImaLogData), MemberType = typeof(Corpus))]
    public void Parse_MutatedCorpusList_OnlyEventLogFormatExceptionWithOffset(string path)
    {
        var original = Corpus.Load(path);

        Fuzz.Run(path, original, 120, ReadEverything);
    }

    [SkippableTheory]
    [MemberData(nameof(Corpus.ImaLogData), MemberType = typeof(Corpus))]
    public void ParseBinary_MutatedCorpusListForcedBinary_OnlyEventLogFormatException(string path)
    {
        var original = Corpus.Load(path);

        Fuzz.Run(path + "#binary", original, 40, b => ImaLog.ParseBinary(b));
    }
}
