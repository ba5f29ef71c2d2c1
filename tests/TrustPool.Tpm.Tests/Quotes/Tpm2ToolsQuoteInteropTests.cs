using TrustPool.Testing;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Quotes;

/// <summary>One swtpm with an RSA EK and two AKs of each type made by tpm2_createak, PCRs extended by tpm2_pcrextend.</summary>
public sealed class Tpm2ToolsAkFixture : IDisposable
{
    private readonly Lazy<(SwtpmInstance Tpm, Tpm2Tools Tools)> _setup;

    public Tpm2ToolsAkFixture()
    {
        _setup = new Lazy<(SwtpmInstance, Tpm2Tools)>(() =>
        {
            var tpm = SwtpmInstance.Start();
            var tools = new Tpm2Tools(tpm, TestTemp.CreateDirectory("trustpool-quote-").FullName);
            tools.RunChecked("tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub");
            foreach (var (alg, scheme) in new[] { ("ecc", "ecdsa"), ("rsa", "rsassa") })
            {
                foreach (var n in new[] { "1", "2" })
                {
                    tools.RunChecked("tpm2_createak", "-C", "ek.ctx", "-c", $"ak-{alg}{n}.ctx", "-G", alg, "-g", "sha256", "-s", scheme,
                        "-u", $"ak-{alg}{n}.pub", "-n", $"ak-{alg}{n}.name");
                    tools.RunChecked("tpm2_readpublic", "-c", $"ak-{alg}{n}.ctx", "-f", "pem", "-o", $"ak-{alg}{n}.pem");
                }
            }

            tools.RunChecked("tpm2_pcrextend", "0:sha1=" + new string('a', 40) + ",sha256=" + new string('b', 64));
            tools.RunChecked("tpm2_pcrextend", "7:sha256=" + new string('c', 64));
            return (tpm, tools);
        });
    }

    public Tpm2Tools Tools => _setup.Value.Tools;

    public void Dispose()
    {
        if (_setup.IsValueCreated)
        {
            _setup.Value.Tpm.Dispose();
            try
            {
                Directory.Delete(_setup.Value.Tools.WorkDir, true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>Acceptance (issue 2): tpm2_quote's output verifies with our verifier; every single change is rejected by name.</summary>
[Trait("Category", "Integration")]
public class Tpm2ToolsQuoteInteropTests(Tpm2ToolsAkFixture fixture) : IClassFixture<Tpm2ToolsAkFixture>
{
    private const string Selection = "sha1:0,1,2,3,7+sha256:0,1,2,3,7,16";

    private (byte[] Msg, byte[] Sig, byte[] Pcrs, string Nonce) Quote(string ak)
    {
        var t = fixture.Tools;
        var nonce = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        var tag = Guid.NewGuid().ToString("N");
        t.RunChecked("tpm2_quote", "-c", $"{ak}.ctx", "-l", Selection, "-q", nonce, "-m", $"{tag}.msg", "-s", $"{tag}.sig", "-o", $"{tag}.pcrs", "-g", "sha256");
        return (File.ReadAllBytes(t.PathOf($"{tag}.msg")), File.ReadAllBytes(t.PathOf($"{tag}.sig")), File.ReadAllBytes(t.PathOf($"{tag}.pcrs")), nonce);
    }

    private AttestationKey Key(string file) => AttestationKey.FromFileBytes(File.ReadAllBytes(fixture.Tools.PathOf(file)));

    /// <summary>As `trustpool tpm verify-quote` does: the quote must cover exactly the PCRs the file declares.</summary>
    private static QuoteVerification Verify(AttestationKey key, byte[] msg, byte[] sig, byte[] pcrsFile, string nonce)
    {
        var (sel, pcrs) = Tpm2ToolsPcrFile.Read(pcrsFile);
        return QuoteVerifier.Verify(key, msg, sig, pcrs, Convert.FromHexString(nonce), sel);
    }

    private static string Outcome(AttestationKey key, byte[] msg, byte[] sig, byte[] pcrs, string nonce)
    {
        try
        {
            var r = Verify(key, msg, sig, pcrs, nonce);
            return r.IsValid ? "valid" : r.Fault!.Code;
        }
        catch (TpmFormatException)
        {
            return "MalformedPcrFile";
        }
    }

    [SkippableTheory]
    [InlineData("ak-ecc1")]
    [InlineData("ak-rsa1")]
    public void Verify_Tpm2QuoteOnSwtpm_ValidWithTpm2bAndPemKey(string ak)
    {
        var (msg, sig, pcrs, nonce) = Quote(ak);
        using var tpm2b = Key($"{ak}.pub");
        using var pem = Key($"{ak}.pem");
        Assert.Equal("valid", Outcome(tpm2b, msg, sig, pcrs, nonce));
        Assert.Equal("valid", Outcome(pem, msg, sig, pcrs, nonce));
        var name = File.ReadAllBytes(fixture.Tools.PathOf($"{ak}.name"));
        Assert.Equal(name, tpm2b.Name);
        var result = Verify(tpm2b, msg, sig, pcrs, nonce);
        Assert.Equal(11, result.VerifiedPcrs!.All().Count());
        Assert.Equal(0u, (uint)result.ClockInfo!.Value.RestartCount);
    }

    [SkippableTheory]
    [InlineData("ak-ecc1")]
    [InlineData("ak-rsa1")]
    public void Verify_AnyMessageByteFlipped_SignatureInvalid(string ak)
    {
        var (msg, sig, pcrs, nonce) = Quote(ak);
        using var key = Key($"{ak}.pub");
        for (var i = 0; i < msg.Length; i++)
        {
            var m = (byte[])msg.Clone();
            m[i] ^= 0x01;
            Assert.Equal("SignatureInvalid", Outcome(key, m, sig, pcrs, nonce));
        }
    }

    [SkippableTheory]
    [InlineData("ak-ecc1")]
    [InlineData("ak-rsa1")]
    public void Verify_AnySignatureByteFlipped_Rejected(string ak)
    {
        var (msg, sig, pcrs, nonce) = Quote(ak);
        using var key = Key($"{ak}.pub");
        for (var i = 0; i < sig.Length; i++)
        {
            var s = (byte[])sig.Clone();
            s[i] ^= 0x01;
            var outcome = Outcome(key, msg, s, pcrs, nonce);
            var expected = i < 4 ? new[] { "SignatureSchemeMismatch", "MalformedEvidence" }
                : i < 6 || (ak.Contains("ecc", StringComparison.Ordinal) && (i == 38 || i == 39)) ? ["MalformedEvidence"]
                : ["SignatureInvalid"];
            Assert.True(expected.Contains(outcome), $"byte {i}: {outcome}");
        }
    }

    [SkippableTheory]
    [InlineData("ak-ecc1")]
    [InlineData("ak-rsa1")]
    public void Verify_AnyPcrFileByteFlipped_Rejected(string ak)
    {
        var (msg, sig, pcrs, nonce) = Quote(ak);
        using var key = Key($"{ak}.pub");
        var seen = new HashSet<string>();
        for (var i = 0; i < pcrs.Length; i++)
        {
            var p = (byte[])pcrs.Clone();
            p[i] ^= 0x01;
            var outcome = Outcome(key, msg, sig, p, nonce);
            Assert.True(outcome != "valid", $"byte {i} flipped still verifies");
            seen.Add(outcome);
        }

        Assert.Contains("PcrDigestMismatch", seen);
        Assert.Contains("SelectionMismatch", seen);
        Assert.Contains("MalformedPcrFile", seen);
    }

    [SkippableTheory]
    [InlineData("ak-ecc1")]
    [InlineData("ak-rsa1")]
    public void Verify_OtherNonce_NonceMismatch(string ak)
    {
        var (msg, sig, pcrs, _) = Quote(ak);
        using var key = Key($"{ak}.pub");
        var other = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        Assert.Equal("NonceMismatch", Outcome(key, msg, sig, pcrs, other));
    }

    [SkippableTheory]
    [InlineData("ak-ecc1", "ak-ecc2.pub", "SignatureInvalid")]
    [InlineData("ak-rsa1", "ak-rsa2.pub", "SignatureInvalid")]
    [InlineData("ak-rsa1", "ak-ecc2.pub", "SignatureSchemeMismatch")]
    [InlineData("ak-ecc1", "ak-rsa2.pem", "SignatureInvalid")]
    public void Verify_OtherAk_Rejected(string ak, string otherKey, string expected)
    {
        var (msg, sig, pcrs, nonce) = Quote(ak);
        using var key = Key(otherKey);
        Assert.Equal(expected, Outcome(key, msg, sig, pcrs, nonce));
    }
}
