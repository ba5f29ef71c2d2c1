using System.Text.Json;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests.Tpm;

/// <summary>`trustpool tpm verify-quote` on quotes made by tpm2_quote against a real swtpm: exit codes 0/1/2 and JSON.</summary>
public sealed class Tpm2ToolsQuoteFixture : IDisposable
{
    public Lazy<(SwtpmInstance Tpm, Tpm2Tools Tools)> Tpm { get; } = new(() =>
    {
        var tpm = SwtpmInstance.Start();
        var tools = new Tpm2Tools(tpm, TestTemp.CreateDirectory("trustpool-cli-").FullName);
        tools.RunChecked("tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub");
        tools.RunChecked("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-f", "pem", "-n", "ak.name");
        tools.RunChecked("tpm2_readpublic", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        tools.RunChecked("tpm2_pcrextend", "7:sha256=" + new string('c', 64));
        tools.RunChecked("tpm2_quote", "-c", "ak.ctx", "-l", "sha256:0,1,2,7", "-q", "c0ffee", "-m", "quote.msg", "-s", "quote.sig", "-o", "quote.pcrs", "-g", "sha256");
        return (tpm, tools);
    });

    public void Dispose()
    {
        if (Tpm.IsValueCreated)
        {
            Tpm.Value.Tpm.Dispose();
        }
    }
}

[Trait("Category", "Integration")]
public sealed class VerifyQuoteCommandTests(Tpm2ToolsQuoteFixture fixture) : IClassFixture<Tpm2ToolsQuoteFixture>
{
    private string P(string f) => fixture.Tpm.Value.Tools.PathOf(f);

    [SkippableFact]
    public void VerifyQuote_Tpm2ToolsQuote_Exit0AndPcrsInJson()
    {
        var r = Cli.Run("tpm", "verify-quote", "--ak", P("ak.pem"), "--message", P("quote.msg"), "--signature", P("quote.sig"),
            "--pcrs", P("quote.pcrs"), "--nonce", "c0ffee", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.True(doc.RootElement.GetProperty("valid").GetBoolean());
        var pcr7 = doc.RootElement.GetProperty("pcrs").GetProperty("sha256").GetProperty("7").GetString();
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. new byte[32], .. Convert.FromHexString(new string('c', 64))]));
        Assert.Equal(expected, pcr7);
    }

    [SkippableFact]
    public void VerifyQuote_OtherNonce_Exit1WithReason()
    {
        var r = Cli.Run("tpm", "verify-quote", "--ak", P("ak.pub"), "--message", P("quote.msg"), "--signature", P("quote.sig"),
            "--pcrs", P("quote.pcrs"), "--nonce", "c0ffef");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("NonceMismatch", r.StdOut, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void VerifyQuote_UnreadablePcrFile_Exit2WithFieldAndOffset()
    {
        var r = Cli.Run("tpm", "verify-quote", "--ak", P("ak.pem"), "--message", P("quote.msg"), "--signature", P("quote.sig"),
            "--pcrs", P("ak.pem"), "--nonce", "c0ffee");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("pcrs.selection.count at offset 0", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyQuote_MissingOptions_Exit2()
    {
        var r = Cli.Run("tpm", "verify-quote", "--ak", "x");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--nonce", r.StdErr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void VerifyQuote_BadHexNonce_Exit2()
    {
        var r = Cli.Run("tpm", "verify-quote", "--ak", P("ak.pem"), "--message", P("quote.msg"), "--signature", P("quote.sig"),
            "--pcrs", P("quote.pcrs"), "--nonce", "xyz");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not hex", r.StdErr, StringComparison.Ordinal);
    }
}
