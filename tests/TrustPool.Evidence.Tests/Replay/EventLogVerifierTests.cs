using TrustPool.Tpm.Structures;
using System.Text;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Replay;

public class EventLogVerifierTests
{
    private const string Ebs = "go-attestation/attest/testdata/ebs_event_missing_eventlog";

    private static PcrValues Only(PcrValues all, TpmAlgorithmId bank, params int[] indices)
    {
        var v = new PcrValues();
        foreach (var i in indices)
        {
            v.Set(bank, i, all.Find(bank, i)!);
        }

        return v;
    }

    [SkippableFact]
    public void Replay_EbsMissingLog_Pcr5DiffersFromUpstreamOnPurpose()
    {
        var expected = Corpus.ExpectedPcrs(Ebs, out _)!;

        var replay = EventLogReplay.Replay(TcgEventLog.Parse(Corpus.Load(Ebs)));

        Assert.NotEqual(Hex.Lower(expected.Find(TpmAlgorithmId.Sha1, 5)!), Hex.Lower(replay.Pcrs.Find(TpmAlgorithmId.Sha1, 5)!));
    }

    [SkippableFact]
    public void Verify_EbsMissingLogAgainstUpstreamPcr5_MatchesWithNamedWorkaround()
    {
        var expected = Corpus.ExpectedPcrs(Ebs, out _)!;
        var quoted = Only(expected, TpmAlgorithmId.Sha1, 5);

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(Corpus.Load(Ebs)), quoted);

        Assert.True(v.Matches);
        Assert.Contains(EventLogWorkarounds.MissingExitBootServicesEvents, v.AppliedWorkarounds);
    }

    [SkippableFact]
    public void Verify_EbsMissingLogAgainstWrongPcr5_StillRejected()
    {
        var quoted = new PcrValues();
        quoted.Set(TpmAlgorithmId.Sha1, 5, new byte[20]);

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(Corpus.Load(Ebs)), quoted);

        var m = Assert.Single(v.Mismatches);
        Assert.Equal(5, m.Index);
        Assert.DoesNotContain(EventLogWorkarounds.MissingExitBootServicesEvents, v.AppliedWorkarounds);
    }

    [SkippableFact]
    public void Replay_HcrtmLog_Pcr0StartsAtFourAndMatchesUpstreamOnlySo()
    {
        const string path = "tpm2-tss/derived/binary_measurements_hcrtm.bin";
        var log = TcgEventLog.Parse(Corpus.Load(path));
        var upstream = Corpus.ExpectedPcrs(path, out _)!.Find(TpmAlgorithmId.Sha1, 0)!;
        var fromZero = new byte[20];
        foreach (var e in log.Events.Where(e => e.PcrIndex == 0 && e.EventType != TcgEventType.NoAction))
        {
            fromZero = EventLogReplay.Extend(TpmAlgorithmId.Sha1, fromZero, e.Digest(TpmAlgorithmId.Sha1)!);
        }

        var replay = EventLogReplay.Replay(log);

        Assert.True(replay.HcrtmStart);
        Assert.Equal(4, replay.Pcr0InitialLocality);
        Assert.Equal(Hex.Lower(upstream), Hex.Lower(replay.Pcrs.Find(TpmAlgorithmId.Sha1, 0)!));
        Assert.NotEqual(Hex.Lower(upstream), Hex.Lower(fromZero));
        Assert.Empty(replay.UnsupportedBanks);
        Assert.Equal(Hex.Lower(Corpus.ExpectedPcrs(path, out _)!.Find(TpmAlgorithmId.Sm3_256, 0)!), Hex.Lower(replay.Pcrs.Find(TpmAlgorithmId.Sm3_256, 0)!));
    }

    [SkippableTheory]
    [InlineData("go-tpm-tools/internal/test/eventlogs/glinux-alex.bin")]
    [InlineData("go-tpm-tools/internal/test/eventlogs/gdc-host.bin")]
    public void Replay_StartupLocality3Log_Pcr0StartsAtThreeAndMatchesRealMachine(string path)
    {
        var expected = Corpus.ExpectedPcrs(path, out _)!;

        var replay = EventLogReplay.Replay(TcgEventLog.Parse(Corpus.Load(path)));

        Assert.Equal(3, replay.Pcr0InitialLocality);
        foreach (var bank in expected.Banks)
        {
            Assert.Equal(Hex.Lower(expected.Find(bank, 0)!), Hex.Lower(replay.Pcrs.Find(bank, 0)!));
        }
    }

    [SkippableFact]
    public void Replay_OptionRomLogWithPcrFFFFFFFF_SkipsThatEventAndMatchesUpstream()
    {
        const string path = "go-attestation/attest/testdata/option_rom_eventlog";
        var expected = Corpus.ExpectedPcrs(path, out _)!;

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(Corpus.Load(path)), expected);

        Assert.Contains(v.Replay.Skipped, s => s.Event.PcrIndex == uint.MaxValue);
        Assert.True(v.Matches, string.Join("\n", v.Mismatches));
    }

    [Fact]
    public void Verify_TamperedKernelWithBaseline_FirstDivergingEventIsTheKernel()
    {
        var banks = new[] { TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256 };
        var good = TcgEventLog.Parse(EventLogGenerator.PlausibleBoot(new EventLogBuilder(banks), new SimulatedBoot()).ToArray());
        var bad = TcgEventLog.Parse(EventLogGenerator.PlausibleBoot(new EventLogBuilder(banks), new SimulatedBoot { Kernel = Encoding.ASCII.GetBytes("evil") }).ToArray());
        var quoted = EventLogReplay.Replay(good).Pcrs;

        var v = EventLogVerifier.Verify(bad, quoted, baseline: good);

        Assert.False(v.Matches);
        Assert.Equal(["sha1:4", "sha1:9", "sha256:4", "sha256:9"], v.Mismatches.Select(m => $"{TpmHash.Name(m.Bank)}:{m.Index}").Order(StringComparer.Ordinal));
        var pcr9 = v.Mismatches.First(m => m.Index == 9);
        Assert.Equal(bad.Events.Single(e => e.PcrIndex == 9).Number, pcr9.FirstDivergingEvent!.Number);
        var pcr4 = v.Mismatches.First(m => m.Index == 4);
        Assert.Equal(TcgEventType.EfiBootServicesApplication, pcr4.FirstDivergingEvent!.EventType);
        Assert.Equal(@"\boot\vmlinuz-6.1.0-sim", Assert.IsType<ImageLoadEvent>(TcgEventDecoder.Decode(pcr4.FirstDivergingEvent)).DevicePath);
        Assert.Equal(quoted.Find(TpmAlgorithmId.Sha256, 9), v.Mismatches.First(m => m.Index == 9 && m.Bank == TpmAlgorithmId.Sha256).Expected);
    }

    [Fact]
    public void Verify_EventsLoggedAfterTheQuote_NamesFirstUncoveredEvent()
    {
        var b = new EventLogBuilder(TpmAlgorithmId.Sha256).AddIpl(8, "grub_cmd: a").AddIpl(8, "grub_cmd: b");
        var quoted = Only(EventLogReplay.Replay(TcgEventLog.Parse(b.ToArray())).Pcrs, TpmAlgorithmId.Sha256, 8);
        b.AddIpl(8, "grub_cmd: c").AddIpl(8, "grub_cmd: d");

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(b.ToArray()), quoted);

        var m = Assert.Single(v.Mismatches);
        Assert.Equal(3, m.FirstDivergingEvent!.Number);
        Assert.Contains("reproduce the quoted value", m.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_EventWhoseDigestIsNotItsPayload_NamedAsSuspect()
    {
        var b = new EventLogBuilder(TpmAlgorithmId.Sha256).AddSeparator(7).AddEfiAction(7, "honest");
        var quoted = Only(EventLogReplay.Replay(TcgEventLog.Parse(b.ToArray())).Pcrs, TpmAlgorithmId.Sha256, 7);
        var forged = new EventLogBuilder(TpmAlgorithmId.Sha256).AddSeparator(7)
            .AddWithDigests(7, TcgEventType.EfiAction, Encoding.ASCII.GetBytes("honest"), new Dictionary<TpmAlgorithmId, byte[]> { [TpmAlgorithmId.Sha256] = new byte[32] });

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(forged.ToArray()), quoted);

        var m = Assert.Single(v.Mismatches);
        Assert.Equal(2, m.FirstDivergingEvent!.Number);
        Assert.Single(v.DigestMismatches);
    }

    [SkippableFact]
    public void DigestCheck_SystemdBootArchLog_ReportsEvent24IplAsInformational()
    {
        const string path = "tpm2-tools/test/integration/fixtures/event-arch-linux.bin";
        var log = TcgEventLog.Parse(Corpus.Load(path));
        var expected = Corpus.ExpectedPcrs(path, out _)!;

        var v = EventLogVerifier.Verify(log, expected);

        Assert.True(v.Matches);
        Assert.Contains(v.DigestMismatches, d => d.Event.Number == 24 && d.Event.EventType == TcgEventType.Ipl);
    }

    [SkippableFact]
    public void Verify_QuotedPcrWithoutEvents_ListedAsUnexplainedNotJudged()
    {
        const string path = "go-attestation/attest/testdata/sb_cert_eventlog";
        var expected = Corpus.ExpectedPcrs(path, out _)!;

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(Corpus.Load(path)), expected);

        Assert.True(v.Matches, string.Join("\n", v.Mismatches));
        Assert.Contains((TpmAlgorithmId.Sha256, 10), v.Unexplained);
    }

    [SkippableTheory]
    [InlineData("sha1")]
    [InlineData("sha256")]
    [InlineData("sha384")]
    public void Verify_GceCos85AgainstItsQuotedPcrs_Matches(string bank)
    {
        Assert.True(TpmHash.TryParseName(bank, out var alg));
        var quoted = new PcrValues();
        foreach (var line in File.ReadAllLines(Corpus.FullPath($"go-tpm-tools/derived/gce-cos-85-nonce9009/quote_{bank}.pcrs.txt")))
        {
            var parts = line.Split(':', 2, StringSplitOptions.TrimEntries);
            quoted.Set(alg, int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), Convert.FromHexString(parts[1]));
        }

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(Corpus.Load("go-tpm-tools/derived/gce-cos-85-nonce9009/event_log.bin")), quoted);

        Assert.True(v.Matches, string.Join("\n", v.Mismatches));
        Assert.Equal(24, quoted.Bank(alg).Count);
        Assert.Equal(10, v.Replay.Pcrs.Bank(alg).Count);
    }

    [SkippableFact]
    public void Verify_GceCos85WithOneQuotedPcrAltered_RejectsThatPcr()
    {
        var quoted = new PcrValues();
        foreach (var line in File.ReadAllLines(Corpus.FullPath("go-tpm-tools/derived/gce-cos-85-nonce9009/quote_sha256.pcrs.txt")))
        {
            var parts = line.Split(':', 2, StringSplitOptions.TrimEntries);
            var value = Convert.FromHexString(parts[1]);
            if (parts[0] == "7")
            {
                value[0] ^= 0x80;
            }

            quoted.Set(TpmAlgorithmId.Sha256, int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), value);
        }

        var v = EventLogVerifier.Verify(TcgEventLog.Parse(Corpus.Load("go-tpm-tools/derived/gce-cos-85-nonce9009/event_log.bin")), quoted);

        var m = Assert.Single(v.Mismatches);
        Assert.Equal((TpmAlgorithmId.Sha256, 7), (m.Bank, m.Index));
    }
}
