using System.Buffers.Binary;
using System.Text;
using CsCheck;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Uefi;

public class TcgEventLogTests
{
    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] U16(ushort v) => [(byte)v, (byte)(v >> 8)];

    /// <summary>A crypto-agile log by hand: Spec ID with the given algorithms, then one EV_SEPARATOR in PCR 3 with the given digests.</summary>
    private static byte[] HandMadeLog((ushort Alg, ushort Size)[] specAlgs, (ushort Alg, byte[] Digest)[] digests, uint? digestCount = null)
    {
        var spec = new List<byte>();
        spec.AddRange("Spec ID Event03\0"u8.ToArray());
        spec.AddRange(U32(0));
        spec.AddRange(new byte[] { 0, 2, 0, 2 });
        spec.AddRange(U32((uint)specAlgs.Length));
        foreach (var (alg, size) in specAlgs)
        {
            spec.AddRange(U16(alg));
            spec.AddRange(U16(size));
        }

        spec.Add(0);
        var log = new List<byte>();
        log.AddRange(U32(0));
        log.AddRange(U32(3));
        log.AddRange(new byte[20]);
        log.AddRange(U32((uint)spec.Count));
        log.AddRange(spec);
        log.AddRange(U32(3));
        log.AddRange(U32((uint)TcgEventType.Separator));
        log.AddRange(U32(digestCount ?? (uint)digests.Length));
        foreach (var (alg, d) in digests)
        {
            log.AddRange(U16(alg));
            log.AddRange(d);
        }

        log.AddRange(U32(4));
        log.AddRange(new byte[4]);
        return [.. log];
    }

    [Fact]
    public void Parse_UnknownAlgorithmWithDeclaredSize_SkipsItsDigestAndReplaysTheKnownBank()
    {
        var sep = TpmHash.Hash(TpmAlgorithmId.Sha256, new byte[4]);
        var bytes = HandMadeLog([(0x0B, 32), (0x0099, 24)], [(0x0099, new byte[24]), (0x0B, sep)]);

        var log = TcgEventLog.Parse(bytes);
        var replay = EventLogReplay.Replay(log);

        Assert.Equal(2, log.Events.Count);
        Assert.Equal(2, log.Events[1].Digests.Count);
        Assert.Contains((TpmAlgorithmId)0x0099, replay.UnsupportedBanks);
        Assert.Equal(Hex.Lower(EventLogReplay.Extend(TpmAlgorithmId.Sha256, new byte[32], sep)), Hex.Lower(replay.Pcrs.Find(TpmAlgorithmId.Sha256, 3)!));
    }

    [Fact]
    public void Parse_DigestAlgorithmNotInSpecId_ThrowsNamingHashAlg()
    {
        var bytes = HandMadeLog([(0x0B, 32)], [(0x0004, new byte[20])]);

        var ex = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(bytes));

        Assert.Equal("TPMT_HA.hashAlg", ex.Field);
        Assert.Equal(bytes.Length - 8 - 20 - 2, ex.Offset);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(0xFFFFFFFFu)]
    public void Parse_DigestCountBeyondSpecIdAlgorithms_ThrowsBeforeLooping(uint count)
    {
        var bytes = HandMadeLog([(0x0B, 32)], [(0x0B, new byte[32])], count);

        var ex = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(bytes));

        Assert.Equal("TPML_DIGEST_VALUES.count", ex.Field);
        Assert.Contains("offset", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SpecIdWrongSizeForKnownAlgorithm_Throws()
    {
        var bytes = HandMadeLog([(0x0B, 20)], [(0x0B, new byte[20])]);

        var ex = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(bytes));

        Assert.Equal("TCG_EfiSpecIdEventAlgorithmSize.digestSize", ex.Field);
    }

    [SkippableFact]
    public void Parse_Tpm2ToolsSpecIdVendorDataOverrun_AppliesNamedWorkaround()
    {
        var log = TcgEventLog.Parse(Corpus.Load("tpm2-tools/test/integration/fixtures/specid-vendordata.bin"));

        Assert.Equal([EventLogWorkarounds.SpecIdVendorInfoPastEventSize], log.AppliedWorkarounds);
        Assert.Equal("deadbeef", Hex.Lower(log.SpecId!.VendorInfo));
    }

    [SkippableFact]
    public void Parse_TssWellFormedSpecIdVendorData_NeedsNoWorkaround()
    {
        var log = TcgEventLog.Parse(Corpus.Load("tpm2-tss/derived/specid-vendordata.bin"));

        Assert.Empty(log.AppliedWorkarounds);
        Assert.Equal("deadbeef", Hex.Lower(log.SpecId!.VendorInfo));
    }

    [SkippableFact]
    public void Parse_VendorInfoOverrunWithoutTheBytes_Throws()
    {
        var bytes = Corpus.Load("tpm2-tools/test/integration/fixtures/specid-vendordata.bin");

        var ex = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(bytes[..^2]));

        Assert.StartsWith("TCG_", ex.Field, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Parse_ShortNoActionSha1Log_IsSha1FormatWithStartupLocality()
    {
        var log = TcgEventLog.Parse(Corpus.Load("go-attestation/attest/testdata/short_no_action_eventlog"));

        Assert.Equal(TcgLogFormat.Sha1, log.Format);
        var e = Assert.Single(log.Events);
        Assert.Equal(new StartupLocalityEvent(3), TcgEventDecoder.Decode(e));
    }

    [SkippableFact]
    public void Parse_Sha1FormatLog_HasOneSha1DigestPerEvent()
    {
        var log = TcgEventLog.Parse(Corpus.Load("go-tpm-tools/internal/test/eventlogs/debian-10.bin"));

        Assert.Equal(TcgLogFormat.Sha1, log.Format);
        Assert.Null(log.SpecId);
        Assert.All(log.Events, e => Assert.Equal(TpmAlgorithmId.Sha1, Assert.Single(e.Digests).Algorithm));
    }

    [Fact]
    public void Parse_EmptyInput_EmptyLog()
    {
        var log = TcgEventLog.Parse([]);

        Assert.Empty(log.Events);
    }

    [Fact]
    public void BuilderParse_RandomEvents_RoundTripsAndReplayEqualsExtends()
    {
        var bankSets = new[]
        {
            new[] { TpmAlgorithmId.Sha1 }, [TpmAlgorithmId.Sha256], [TpmAlgorithmId.Sha384],
            [TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256, TpmAlgorithmId.Sha384],
        };
        var gen = Gen.Select(Gen.Int[0, bankSets.Length - 1], Gen.Select(Gen.UInt[0, 23], Gen.Int[0, 3], Gen.Byte.Array[0, 40]).Array[1, 30]);
        var pcg = new PCG(7, 0xB01D);
        for (var iteration = 0; iteration < 200; iteration++)
        {
            var (bankIndex, events) = gen.Generate(pcg, null, out _);
            var banks = bankSets[bankIndex];
            var b = new EventLogBuilder(banks);
            foreach (var (pcr, kind, data) in events)
            {
                _ = kind switch
                {
                    0 => b.Add(pcr, TcgEventType.Ipl, data),
                    1 => b.AddEfiAction(pcr, Convert.ToHexString(data)),
                    2 => b.AddMeasured(pcr, TcgEventType.EfiPlatformFirmwareBlob, new byte[16], data),
                    _ => b.AddNoAction(data),
                };
            }

            var log = TcgEventLog.Parse(b.ToArray());
            var replay = EventLogReplay.Replay(log);

            Assert.Equal(TcgLogFormat.CryptoAgile, log.Format);
            Assert.Equal(banks, log.Banks);
            Assert.Equal(events.Length + 1, log.Events.Count);
            Assert.Equal(b.Extends.Count, log.Events.Count(e => e.EventType != TcgEventType.NoAction) - 0);
            foreach (var bank in banks)
            {
                var expected = new Dictionary<int, byte[]>();
                foreach (var x in b.Extends)
                {
                    var pcr = (int)x.PcrIndex;
                    expected[pcr] = EventLogReplay.Extend(bank, expected.TryGetValue(pcr, out var v) ? v : new byte[TpmHash.DigestSize(bank)], x.Digests[bank]);
                }

                Assert.Equal(expected.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{Hex.Lower(kv.Value)}"),
                    replay.Pcrs.Bank(bank).Select(kv => $"{kv.Key}:{Hex.Lower(kv.Value)}"));
            }
        }
    }

    [Fact]
    public void Builder_UnsupportedOrRepeatedBank_Throws()
    {
        Assert.Throws<ArgumentException>(() => new EventLogBuilder(TpmAlgorithmId.Sm3_256));
        Assert.Throws<ArgumentException>(() => new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha1));
        Assert.Throws<ArgumentException>(() => new EventLogBuilder());
    }

    [Fact]
    public void Builder_StartupLocality_ReplayStartsPcr0AtLocality()
    {
        var b = new EventLogBuilder(TpmAlgorithmId.Sha256).AddStartupLocality(3).AddSeparator(0);
        var initial = new byte[32];
        initial[^1] = 3;

        var replay = EventLogReplay.Replay(TcgEventLog.Parse(b.ToArray()));

        Assert.Equal(3, replay.Pcr0InitialLocality);
        Assert.Equal(Hex.Lower(EventLogReplay.Extend(TpmAlgorithmId.Sha256, initial, b.Extends[0].Digests[TpmAlgorithmId.Sha256])),
            Hex.Lower(replay.Pcrs.Find(TpmAlgorithmId.Sha256, 0)!));
        Assert.Single(b.Extends);
    }

    [Fact]
    public void TypeName_EveryNamedEventType_HasSpecName()
    {
        foreach (var t in Enum.GetValues<TcgEventType>())
        {
            var name = TcgEventTypes.Name(t);
            Assert.True(name.StartsWith("EV_", StringComparison.Ordinal) || name.StartsWith("EVTYPE_TXT_", StringComparison.Ordinal), name);
        }

        Assert.Equal("0x12345678", TcgEventTypes.Name((TcgEventType)0x12345678));
        Assert.Equal("EV_EFI_VARIABLE_AUTHORITY", TcgEventTypes.Name(TcgEventType.EfiVariableAuthority));
    }

    [Fact]
    public void Extend_KnownVector_MatchesSha256OfConcatenation()
    {
        var digest = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");

        var v = EventLogReplay.Extend(TpmAlgorithmId.Sha256, new byte[32], digest);

        Assert.Equal(Hex.Lower(System.Security.Cryptography.SHA256.HashData([.. new byte[32], .. digest])), Hex.Lower(v));
    }

    [Fact]
    public void TryParse_TruncatedLog_FalseWithFieldAndOffset()
    {
        var bytes = new EventLogBuilder(TpmAlgorithmId.Sha1).AddSeparator(4).ToArray();

        var ok = TcgEventLog.TryParse(bytes.AsSpan(0, bytes.Length - 1), out var log, out var error);
        var good = TcgEventLog.TryParse(bytes, out var parsed, out var none);

        Assert.False(ok);
        Assert.Null(log);
        Assert.Equal("TCG_PCR_EVENT2.event", error!.Field);
        Assert.True(good);
        Assert.Null(none);
        Assert.Equal(2, parsed!.Events.Count);
    }
}
