using BenchmarkDotNet.Attributes;
using TrustPool.Cli.Commands;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Benchmarks;

/// <summary>
/// Issue 2: quote verification (24 sha256 PCRs) vs the bare signature verification of the same imported key.
/// Target: VerifyQuote >= 90% of the bare rate, i.e. its mean time at most 1/0.9 of VerifyBare's.
/// </summary>
[MemoryDiagnoser]
public class QuoteVerifyBenchmarks
{
    private VerifyBenchmarkCase _case = null!;

    [Params("ecdsa-p256", "rsa-2048")]
    public string Ak { get; set; } = "";

    [GlobalSetup]
    public void Setup() => _case = VerifyBenchmark.CreateCase(rsa: Ak == "rsa-2048");

    [GlobalCleanup]
    public void Cleanup() => _case.Dispose();

    [Benchmark(Baseline = true)]
    public bool VerifyBare() => _case.VerifyBare();

    [Benchmark]
    public bool VerifyQuote() => _case.VerifyQuote();

    /// <summary>The verifier's overhead alone (no cryptographic signature check): what the 10% budget is spent on.</summary>
    [Benchmark]
    public bool ContentOnly()
    {
        // Internal to TrustPool.Tpm (visible to this project): everything after the signature check.
        var signature = TpmtSignature.Parse(_case.Signature);
        return QuoteVerifier.CheckSignedContent(_case.Attest, signature.HashAlg, signature.SigAlg, _case.Pcrs, _case.Nonce, null).IsValid;
    }
}
