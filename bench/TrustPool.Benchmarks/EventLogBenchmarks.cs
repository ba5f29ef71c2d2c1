using BenchmarkDotNet.Attributes;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Benchmarks;

/// <summary>
/// Issue 3 performance: in-process parse + replay of the largest UEFI event log in ../shared/testdata
/// (by event count), and of a generated 50,000-event log. Events/s = events / mean (printed by GlobalSetup).
/// Run: dotnet run -c Release --project bench/TrustPool.Benchmarks -- --filter '*EventLogBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class EventLogBenchmarks
{
    private static readonly string[] s_candidates =
    [
        "tpm2-tss/derived/binary_measurements_hcrtm.bin",
        "ima-evm-utils/tests/sample-binary_bios_measurements-pcrs-8-9",
        "go-tpm-tools/internal/test/eventlogs/gdc-host.bin",
        "go-attestation/attest/testdata/option_rom_eventlog",
        "rust-keylime/keylime/test-data/uefi_log.bin",
        "tcglog-parser/testdata/binary_bios_measurements",
        "go-tpm-tools/internal/test/eventlogs/ubuntu-2404-amd-sevsnp.bin",
    ];

    private byte[] _largest = [];
    private byte[] _generated = [];

    public string LargestName { get; private set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var root = TrustPool.Testing.TestData.Root ?? throw new InvalidOperationException("../shared/testdata not found (set TRUSTPOOL_TESTDATA)");
        var best = 0;
        foreach (var candidate in s_candidates)
        {
            var path = Path.Combine(root, candidate);
            if (!File.Exists(path))
            {
                continue;
            }

            var bytes = File.ReadAllBytes(path);
            var count = TcgEventLog.Parse(bytes).Events.Count;
            if (count > best)
            {
                (best, _largest, LargestName) = (count, bytes, candidate);
            }
        }

        _generated = EventLogGenerator.Random(1, 50_000, TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256);
        Console.WriteLine($"// largest corpus log: {LargestName}, {best} events; generated log: 50000 events (sha1, sha256)");
    }

    [Benchmark(Description = "largest corpus log: parse to objects + replay")]
    public PcrReplay CorpusObjectModel() => EventLogReplay.Replay(TcgEventLog.Parse(_largest));

    [Benchmark(Description = "largest corpus log: streaming parse + replay")]
    public PcrReplay CorpusStreaming() => EventLogReplay.Replay(_largest.AsMemory());

    [Benchmark(Description = "generated 50k events: streaming parse + replay")]
    public PcrReplay Generated50kStreaming() => EventLogReplay.Replay(_generated.AsMemory());
}
