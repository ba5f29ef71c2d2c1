using System.Text;
using System.Text.Json;
using TrustPool.Evidence;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Tests;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

public class EventLogCliTests
{
    private static string TempFile(string name, byte[] bytes)
    {
        var path = Path.Combine(TestTemp.CreateDirectory("trustpool-cli-").FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] SampleBoot(SimulatedBoot boot) =>
        EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), boot).ToArray();

    [SkippableFact]
    public void ReplayJson_StartupLocalityLog_PrintsUpstreamValuesInLowerCaseHex()
    {
        const string relative = "go-tpm-tools/internal/test/eventlogs/glinux-alex.bin";
        var expected = Corpus.ExpectedPcrs(relative, out _)!;

        var r = TrustPoolCli.Run("eventlog", "replay", "--json", Corpus.FullPath(relative));

        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal(["pcrs"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        var pcrs = TrustPoolCli.PcrsFromJson(r.StdOut);
        foreach (var bank in expected.Banks)
        {
            foreach (var (index, value) in expected.Bank(bank))
            {
                Assert.Equal(Hex.Lower(value), pcrs[TpmHash.Name(bank)][index]);
            }
        }

        Assert.All(pcrs.Values.SelectMany(b => b.Values), v => Assert.Equal(v.ToLowerInvariant(), v));
    }

    [Fact]
    public void Replay_TruncatedLog_ExitsTwoNamingFieldAndOffset()
    {
        var bytes = SampleBoot(new SimulatedBoot());
        var path = TempFile("truncated.bin", bytes[..^5]);

        var r = TrustPoolCli.Run("eventlog", "replay", "--json", path);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("TCG_PCR_EVENT2.event", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("offset", r.StdErr, StringComparison.Ordinal);
        Assert.Empty(r.StdOut);
    }

    [Fact]
    public void Replay_MissingFile_ExitsTwo()
    {
        var r = TrustPoolCli.Run("eventlog", "replay", Path.Combine(Path.GetTempPath(), "no-such-trustpool-log.bin"));

        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void Replay_NoFileArgument_ExitsTwo()
    {
        var r = TrustPoolCli.Run("eventlog", "replay");

        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void Replay_ExpectedValuesMatch_ExitsZero()
    {
        var path = TempFile("good.bin", SampleBoot(new SimulatedBoot()));
        var json = TrustPoolCli.Run("eventlog", "replay", "--json", path).StdOut;
        var expected = TempFile("quote.json", Encoding.UTF8.GetBytes(json));

        var r = TrustPoolCli.Run("eventlog", "replay", "--json", path, "--expected", expected);

        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.True(doc.RootElement.GetProperty("verified").GetBoolean());
    }

    [Fact]
    public void Replay_TamperedKernelAgainstBaseline_ExitsOneNamingFirstDivergingEvent()
    {
        var goodBytes = SampleBoot(new SimulatedBoot());
        var good = TempFile("good.bin", goodBytes);
        var quoted = TempFile("quote.json", Encoding.UTF8.GetBytes(TrustPoolCli.Run("eventlog", "replay", "--json", good).StdOut));
        var tamperedBytes = SampleBoot(new SimulatedBoot { Kernel = Encoding.ASCII.GetBytes("rootkit kernel") });
        var tampered = TempFile("tampered.bin", tamperedBytes);
        var kernelEvent = TcgEventLog.Parse(tamperedBytes).Events.First(e => e.PcrIndex == 9).Number;

        var r = TrustPoolCli.Run("eventlog", "replay", "--json", tampered, "--expected", quoted, "--baseline", good);

        Assert.True(r.ExitCode == 1, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.False(doc.RootElement.GetProperty("verified").GetBoolean());
        var pcr9 = doc.RootElement.GetProperty("mismatches").EnumerateArray().Single(m => m.GetProperty("bank").GetString() == "sha256" && m.GetProperty("index").GetInt32() == 9);
        Assert.Equal(kernelEvent, pcr9.GetProperty("firstDivergingEvent").GetProperty("number").GetInt32());
    }

    [SkippableFact]
    public void ShowJson_UbuntuNoSecureBoot_ListsEveryEventAndFacts()
    {
        const string relative = "go-tpm-tools/internal/test/eventlogs/ubuntu-2104-no-secure-boot.bin";
        var log = TcgEventLog.Parse(Corpus.Load(relative));

        var r = TrustPoolCli.Run("eventlog", "show", "--json", Corpus.FullPath(relative));

        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        var events = doc.RootElement.GetProperty("events");
        Assert.Equal(log.Events.Count, events.GetArrayLength());
        Assert.Equal(log.Events.Select(e => e.TypeName), events.EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        var facts = doc.RootElement.GetProperty("facts");
        Assert.False(facts.GetProperty("secureBoot").GetBoolean());
        Assert.Contains("root=", facts.GetProperty("kernelCommandLine").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ShowText_CorpusLog_PrintsOneLinePerEvent()
    {
        const string relative = "go-attestation/attest/testdata/option_rom_eventlog";
        var log = TcgEventLog.Parse(Corpus.Load(relative));

        var r = TrustPoolCli.Run("eventlog", "show", Corpus.FullPath(relative));

        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var e in log.Events)
        {
            Assert.Contains($"{e.Number,5} PCR", r.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains("PCR-1  EV_NO_ACTION", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_ThenReplay_EqualsLibraryReplay()
    {
        var path = Path.Combine(TestTemp.CreateDirectory("trustpool-cli-").FullName, "gen.bin");

        var g = TrustPoolCli.Run("eventlog", "generate", "--events", "500", "--out", path, "--banks", "sha1,sha384", "--seed", "7");
        var r = TrustPoolCli.Run("eventlog", "replay", "--json", path);

        Assert.True(g.ExitCode == 0, g.ToString());
        var log = TcgEventLog.Parse(File.ReadAllBytes(path));
        Assert.Equal(500, log.Events.Count);
        var replay = EventLogReplay.Replay(log).Pcrs;
        var pcrs = TrustPoolCli.PcrsFromJson(r.StdOut);
        Assert.Equal(["sha1", "sha384"], pcrs.Keys);
        foreach (var bank in replay.Banks)
        {
            Assert.Equal(replay.Bank(bank).ToDictionary(kv => kv.Key, kv => Hex.Lower(kv.Value)), pcrs[TpmHash.Name(bank)]);
        }
    }

    [SkippableFact]
    public void BenchEventLog_Json_ReportsPositiveEventsPerSecond()
    {
        var r = TrustPoolCli.Run("bench", "eventlog", "--json", "--seconds", "0.2", Corpus.FullPath("go-tpm-tools/internal/test/eventlogs/gdc-host.bin"));

        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.True(doc.RootElement.GetProperty("eventsPerSecond").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("events").GetInt32() > 100);
    }

    [SkippableFact]
    public void ReplayJson_Base64Log_DecodedAndEqualsBinaryReplay()
    {
        var fromBase64 = TrustPoolCli.Run("eventlog", "replay", "--json", Corpus.FullPath("tpm2-tss/test/data/fapi/eventlog/binary_measurements_pc_client.b64"));
        var fromBinary = TrustPoolCli.Run("eventlog", "replay", "--json", Corpus.FullPath("tpm2-tss/derived/binary_measurements_pc_client.bin"));

        Assert.True(fromBase64.ExitCode == 0, fromBase64.ToString());
        Assert.Equal(fromBinary.StdOut, fromBase64.StdOut);
        Assert.NotEmpty(TrustPoolCli.PcrsFromJson(fromBase64.StdOut));
    }
}
