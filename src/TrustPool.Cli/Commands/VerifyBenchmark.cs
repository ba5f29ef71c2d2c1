using System.Diagnostics;
using System.Security.Cryptography;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Cli.Commands;

/// <summary>
/// One prepared quote: a genuine TPMS_ATTEST over 24 SHA-256 PCRs and its TPMT_SIGNATURE, and the same public key
/// imported once more into System.Security.Cryptography for the bare signature rate. Public TrustPool.Tpm API only
/// (this file is also compiled into bench/TrustPool.Benchmarks, which measures the verifier's content checks apart).
/// </summary>
internal sealed class VerifyBenchmarkCase : IDisposable
{
    private readonly AsymmetricAlgorithm _bareKey;

    public VerifyBenchmarkCase(string name, AttestationKey key, AsymmetricAlgorithm bareKey, byte[] attest, byte[] signature, byte[] bareSignature, PcrValues pcrs, byte[] nonce)
    {
        Name = name;
        Key = key;
        _bareKey = bareKey;
        Attest = attest;
        Signature = signature;
        BareSignature = bareSignature;
        Pcrs = pcrs;
        Nonce = nonce;
    }

    public string Name { get; }

    public AttestationKey Key { get; }

    public byte[] Attest { get; }

    public byte[] Signature { get; }

    /// <summary>The same signature already in the form System.Security.Cryptography takes (PKCS#1 bytes or r||s).</summary>
    public byte[] BareSignature { get; }

    public PcrValues Pcrs { get; }

    public byte[] Nonce { get; }

    /// <summary>Full quote verification: parse, scheme, signature, magic, type, nonce, selection, PCR digest.</summary>
    public bool VerifyQuote() => QuoteVerifier.Verify(Key, Attest, Signature, Pcrs, Nonce).IsValid;

    /// <summary>Only the signature, with the key already imported (the same public key as <see cref="Key"/>).</summary>
    public bool VerifyBare() => _bareKey is RSA rsa
        ? rsa.VerifyData(Attest, BareSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        : ((ECDsa)_bareKey).VerifyData(Attest, BareSignature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose()
    {
        Key.Dispose();
        _bareKey.Dispose();
    }
}

/// <summary>Measured rates of one case: quote verifications/s and bare signature verifications/s in the same run.</summary>
internal sealed record VerifyBenchmarkResult(string Name, double QuotesPerSecond, double BarePerSecond)
{
    public double Ratio => QuotesPerSecond / BarePerSecond;
}

/// <summary>
/// Issue 2's performance target: quote verification at >= 90% of the bare signature rate of the same imported key.
/// The quotes are made here in the exact TPM format (TPMS_ATTEST + TPMT_SIGNATURE) with fresh keys.
/// </summary>
internal static class VerifyBenchmark
{
    public static VerifyBenchmarkCase CreateCase(bool rsa)
    {
        var nonce = RandomNumberGenerator.GetBytes(32);
        var pcrs = new PcrValues();
        var selection = PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 24));
        var concat = new List<byte>();
        for (var i = 0; i < 24; i++)
        {
            var v = RandomNumberGenerator.GetBytes(32);
            pcrs.Set(TpmAlgorithmId.Sha256, i, v);
            concat.AddRange(v);
        }

        TpmtPublic pub;
        byte[] signature;
        byte[] bare;
        AsymmetricAlgorithm signer;
        if (rsa)
        {
            var k = RSA.Create(2048);
            signer = k;
            pub = TpmTemplates.Ak(TpmKeyAlgorithm.Rsa2048, rsaModulus: k.ExportParameters(false).Modulus);
        }
        else
        {
            var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            signer = k;
            var q = k.ExportParameters(false).Q;
            pub = TpmTemplates.Ak(TpmKeyAlgorithm.EccP256, eccX: q.X, eccY: q.Y);
        }

        var attest = new TpmsAttest(TpmLimits.GeneratedValue, TpmStructureTag.AttestQuote, pub.Name, nonce,
            new TpmsClockInfo(123456, 1, 0, true), 0x2019102300163636, new QuoteInfo(selection, SHA256.HashData(concat.ToArray()))).ToBytes();
        if (signer is RSA r)
        {
            bare = r.SignData(attest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            signature = TpmtSignature.Rsa(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.Sha256, bare).ToBytes();
        }
        else
        {
            bare = ((ECDsa)signer).SignData(attest, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            signature = TpmtSignature.Ecdsa(TpmAlgorithmId.Sha256, bare[..32], bare[32..]).ToBytes();
        }

        AsymmetricAlgorithm bareKey = signer is RSA rsaSigner ? RSA.Create(rsaSigner.ExportParameters(false)) : ECDsa.Create(((ECDsa)signer).ExportParameters(false));
        signer.Dispose();
        var c = new VerifyBenchmarkCase(rsa ? "RSA 2048 (RSASSA-SHA256)" : "ECDSA P-256 (SHA-256)", AttestationKey.FromPublic(pub),
            bareKey, attest, signature, bare, pcrs, nonce);
        if (!c.VerifyQuote() || !c.VerifyBare())
        {
            throw new InvalidOperationException("benchmark quote does not verify");
        }

        return c;
    }

    /// <summary>
    /// Alternates timed slices of both loops on the current thread (so machine noise hits both alike) and
    /// reports the median rate of each over <paramref name="rounds"/> slices.
    /// </summary>
    public static VerifyBenchmarkResult Measure(VerifyBenchmarkCase c, TimeSpan total, int rounds = 10)
    {
        var slice = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(20).Ticks, total.Ticks / (2 * rounds)));
        Loop(c.VerifyQuote, TimeSpan.FromMilliseconds(200));
        Loop(c.VerifyBare, TimeSpan.FromMilliseconds(200));
        var quoteRates = new List<double>();
        var bareRates = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            quoteRates.Add(Loop(c.VerifyQuote, slice));
            bareRates.Add(Loop(c.VerifyBare, slice));
        }

        return new VerifyBenchmarkResult(c.Name, Median(quoteRates), Median(bareRates));
    }

    private static double Loop(Func<bool> op, TimeSpan duration)
    {
        var sw = Stopwatch.StartNew();
        long n = 0;
        var ticks = duration.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
        while (sw.ElapsedTicks < ticks)
        {
            for (var i = 0; i < 64; i++)
            {
                if (!op())
                {
                    throw new InvalidOperationException("verification failed during the benchmark");
                }
            }

            n += 64;
        }

        return n / sw.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[xs.Count / 2 - 1] + xs[xs.Count / 2]) / 2;
    }
}
