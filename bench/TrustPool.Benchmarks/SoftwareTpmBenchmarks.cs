using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Benchmarks;

/// <summary>
/// Software TPM throughput: a quote over 24 SHA-256 PCRs signed with an ECDSA P-256 AK (ops/s = 1 / mean), and the cost
/// of opening an existing state file (what the demo and the load test pay per simulated host).
/// Run: dotnet run -c Release --project bench/TrustPool.Benchmarks -- --filter '*SoftwareTpm*'
/// </summary>
[MemoryDiagnoser]
public class SoftwareTpmBenchmarks : IDisposable
{
    private readonly PcrSelection _selection = PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 24));
    private readonly byte[] _nonce = RandomNumberGenerator.GetBytes(32);
    private SoftwareTpm _tpm = null!;
    private TpmKey _ak = null!;
    private string _dir = null!;
    private string _stateFile = null!;

    [GlobalSetup]
    public void Setup()
    {
        _tpm = SoftwareTpm.CreateInMemory();
        for (var i = 0; i < 24; i++)
        {
            _tpm.ExtendPcr(i, [new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData([(byte)i]))]);
        }

        _ak = _tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        _tpm.Quote(_ak.Handle, _nonce, _selection); // imports the private key once

        _dir = Directory.CreateTempSubdirectory("trustpool-bench-").FullName;
        _stateFile = Path.Combine(_dir, "tpm.json");
        using var seeded = SoftwareTpm.Open(_stateFile);
        seeded.CreateEk(TpmKeyAlgorithm.EccP256);
        seeded.CreateAk(TpmKeyAlgorithm.EccP256);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _tpm.Dispose();
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Benchmark(Description = "Quote: 24 sha256 PCRs, ECDSA P-256 AK")]
    public TpmAttestation Quote() => _tpm.Quote(_ak.Handle, _nonce, _selection);

    [Benchmark(Description = "Open existing state file + CreateEk + CreateAk + quote")]
    public TpmAttestation OpenAndQuote()
    {
        using var tpm = SoftwareTpm.Open(_stateFile);
        tpm.CreateEk(TpmKeyAlgorithm.EccP256);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        return tpm.Quote(ak.Handle, _nonce, _selection);
    }
}
