using System.Text;
using System.Text.Json;
using TrustPool.Evidence.Tests;

using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

public class ImaCliTests
{
    private const string LongList = "rust-keylime/keylime-agent/test-data/ima/ascii_runtime_measurements";

    [SkippableFact]
    public void ImaReplayJson_CorpusList_Pcr10EqualsExpected()
    {
        var expected = Corpus.ExpectedIma.GetProperty(LongList);

        var r = TrustPoolCli.Run("ima", "replay", "--json", Corpus.FullPath(LongList));

        Assert.True(r.ExitCode == 0, r.ToString());
        var pcrs = TrustPoolCli.PcrsFromJson(r.StdOut);
        Assert.Equal(expected.GetProperty("pcr_sha1_aggregate").GetProperty("10").GetString(), pcrs["sha1"][10]);
        Assert.Equal(expected.GetProperty("pcr_sha256_aggregate_computed").GetProperty("10").GetString(), pcrs["sha256"][10]);
    }

    [SkippableFact]
    public void ImaReplay_OneLineAltered_ExitsOneNamingTheLine()
    {
        var lines = File.ReadAllLines(Corpus.FullPath(LongList));
        lines[41] = lines[41][..^1] + (lines[41][^1] == 'x' ? 'y' : 'x');
        var path = Path.Combine(TestTemp.CreateDirectory("trustpool-cli-").FullName, "ima.txt");
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));

        var r = TrustPoolCli.Run("ima", "replay", "--json", path);

        Assert.True(r.ExitCode == 1, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        var m = Assert.Single(doc.RootElement.GetProperty("templateHashMismatches").EnumerateArray());
        Assert.Equal(42, m.GetProperty("line").GetInt32());
    }

    [SkippableFact]
    public void ImaReplay_QuotedValueNeverReached_ExitsOne()
    {
        var r = TrustPoolCli.Run("ima", "replay", Corpus.FullPath(LongList), "--banks", "sha1", "--expected-pcr10", "sha1:" + new string('a', 40));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("never reached", r.StdOut, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ImaReplay_GarbageBinary_ExitsTwo()
    {
        var path = Path.Combine(TestTemp.CreateDirectory("trustpool-cli-").FullName, "garbage.bin");
        File.WriteAllBytes(path, [0x0a, 0, 0, 0, .. new byte[20], 0xff, 0xff, 0, 0, 1, 2, 3]);

        var r = TrustPoolCli.Run("ima", "replay", path);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("ima.template_name_len", r.StdErr, StringComparison.Ordinal);
    }
}
