using TrustPool.Testing;

namespace TrustPool.Cli.Tests.Tpm;

public sealed class SwtpmOnlyFixture : IDisposable
{
    public Lazy<SwtpmInstance> Tpm { get; } = new(() => SwtpmInstance.Start());

    public void Dispose()
    {
        if (Tpm.IsValueCreated)
        {
            Tpm.Value.Dispose();
        }
    }
}

/// <summary>
/// Acceptance (issue 2): quotes made by our client against swtpm and by our software TPM verify with
/// tpm2_checkquote (signature, nonce and the PCR file) and with our own verifier.
/// </summary>
[Trait("Category", "Integration")]
public sealed class QuoteCommandTests(SwtpmOnlyFixture fixture) : IClassFixture<SwtpmOnlyFixture>, IDisposable
{
    private readonly DirectoryInfo _dir = TestTemp.CreateDirectory("trustpool-quote-cli-");

    private string Backend(string kind) => kind == "swtpm" ? fixture.Tpm.Value.Backend : "software:" + Path.Combine(_dir.FullName, "host.state");

    private static ProcessResult CheckQuote(string dir, string nonce, string pcrFile = "quote.pcrs")
    {
        var tool = Integration.RequireTool("tpm2_checkquote");
        return ProcessRunner.Run(tool, ["-u", Path.Combine(dir, "ak.pub"), "-m", Path.Combine(dir, "quote.msg"), "-s", Path.Combine(dir, "quote.sig"),
            "-f", Path.Combine(dir, pcrFile), "-g", "sha256", "-q", nonce]);
    }

    [SkippableTheory]
    [InlineData("swtpm", "ecc")]
    [InlineData("swtpm", "rsa")]
    [InlineData("software", "ecc")]
    [InlineData("software", "rsa")]
    public void Quote_Backend_VerifiesWithTpm2CheckquoteAndOurs(string kind, string akAlg)
    {
        var outDir = Path.Combine(_dir.FullName, kind + akAlg);
        var nonce = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var q = Cli.Run("tpm", "quote", "--tpm", Backend(kind), "--nonce", nonce, "--pcrs", "sha256:0,1,2,7+sha1:0,7", "--out", outDir, "--ak-alg", akAlg);
        Assert.True(q.ExitCode == 0, q.ToString());
        Assert.Contains("simulator", q.StdErr, StringComparison.Ordinal);

        var check = CheckQuote(outDir, nonce);
        Assert.True(check.ExitCode == 0, check.ToString());
        var ours = Cli.Run("tpm", "verify-quote", "--ak", Path.Combine(outDir, "ak.tpm2b"), "--message", Path.Combine(outDir, "quote.msg"),
            "--signature", Path.Combine(outDir, "quote.sig"), "--pcrs", Path.Combine(outDir, "quote.pcrs"), "--nonce", nonce);
        Assert.True(ours.ExitCode == 0, ours.ToString());

        // The same files with one PCR value changed fail both verifiers.
        var pcrs = File.ReadAllBytes(Path.Combine(outDir, "quote.pcrs"));
        pcrs[0x8E] ^= 0x01;
        File.WriteAllBytes(Path.Combine(outDir, "bad.pcrs"), pcrs);
        Assert.NotEqual(0, CheckQuote(outDir, nonce, "bad.pcrs").ExitCode);
        var bad = Cli.Run("tpm", "verify-quote", "--ak", Path.Combine(outDir, "ak.pub"), "--message", Path.Combine(outDir, "quote.msg"),
            "--signature", Path.Combine(outDir, "quote.sig"), "--pcrs", Path.Combine(outDir, "bad.pcrs"), "--nonce", nonce);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("PcrDigestMismatch", bad.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nonce", "zz", "not hex")]
    [InlineData("--pcrs", "sha999:1", "sha999")]
    [InlineData("--tpm", "tcp:1.2.3.4", "expected device:PATH")]
    [InlineData("--ak-alg", "dsa", "expected ecc or rsa")]
    public void Quote_BadArguments_Exit2WithMessage(string option, string value, string message)
    {
        var args = new Dictionary<string, string>
        {
            ["--tpm"] = "software:" + Path.Combine(_dir.FullName, "x.state"), ["--nonce"] = "00", ["--pcrs"] = "sha256:0", ["--out"] = _dir.FullName,
            ["--ak-alg"] = "ecc",
        };
        args[option] = value;
        var r = Cli.Run(["tpm", "quote", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
