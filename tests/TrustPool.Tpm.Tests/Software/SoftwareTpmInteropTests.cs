using System.Security.Cryptography;
using TrustPool.Testing;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Tests.Software;

/// <summary>The software TPM's output checked by tpm2-tools (no TPM needed: these tools run offline).</summary>
[Trait("Category", "Integration")]
public sealed class SoftwareTpmInteropTests : IDisposable
{
    private readonly string _dir = TestTemp.CreateDirectory("trustpool-swtpm-interop-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string In(string file) => Path.Combine(_dir, file);

    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.Rsa2048)]
    public void Quote_VerifiesWithTpm2CheckQuote(TpmKeyAlgorithm akAlgorithm)
    {
        var checkquote = Integration.RequireTool("tpm2_checkquote");
        using var tpm = SoftwareTpm.CreateInMemory();
        for (var i = 0; i < 10; i++)
        {
            tpm.ExtendPcr(i, [new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData([(byte)i]))]);
        }

        var ak = tpm.CreateAk(akAlgorithm);
        var nonce = RandomNumberGenerator.GetBytes(20);
        var quote = tpm.Quote(ak.Handle, nonce, PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 24)));
        File.WriteAllBytes(In("quote.msg"), quote.Attest);
        File.WriteAllBytes(In("quote.sig"), quote.Signature);
        File.WriteAllText(In("ak.pem"), SoftwareTpmTestKit.ToPem(ak.Public));

        // Without -f, tpm2_checkquote checks the signature over quote.msg and the nonce in extraData.
        var ok = ProcessRunner.Run(checkquote, ["-u", "ak.pem", "-m", "quote.msg", "-s", "quote.sig", "-g", "sha256", "-q", Convert.ToHexStringLower(nonce)],
            workingDirectory: _dir);
        Assert.True(ok.ExitCode == 0, ok.ToString());

        var wrongNonce = ProcessRunner.Run(checkquote, ["-u", "ak.pem", "-m", "quote.msg", "-s", "quote.sig", "-g", "sha256", "-q", "00112233"],
            workingDirectory: _dir);
        Assert.True(wrongNonce.ExitCode != 0, wrongNonce.ToString());

        var tampered = (byte[])quote.Attest.Clone();
        tampered[^1] ^= 0x01;
        File.WriteAllBytes(In("quote.msg"), tampered);
        var bad = ProcessRunner.Run(checkquote, ["-u", "ak.pem", "-m", "quote.msg", "-s", "quote.sig", "-g", "sha256", "-q", Convert.ToHexStringLower(nonce)],
            workingDirectory: _dir);
        Assert.True(bad.ExitCode != 0, bad.ToString());
    }

    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.Rsa2048)]
    [InlineData(TpmKeyAlgorithm.EccP256)]
    public void Tpm2MakeCredential_ForSoftwareEk_IsActivatedBySoftwareTpm(TpmKeyAlgorithm ekAlgorithm)
    {
        var makecredential = Integration.RequireTool("tpm2_makecredential");
        using var tpm = SoftwareTpm.Open(In("tpm.json"));
        var ek = tpm.CreateEk(ekAlgorithm);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        File.WriteAllBytes(In("ek.pub"), ek.Public.ToTpm2b());
        var secret = RandomNumberGenerator.GetBytes(32);
        File.WriteAllBytes(In("secret"), secret);

        var r = ProcessRunner.Run(makecredential, ["-T", "none", "-u", "ek.pub", "-s", "secret", "-n", Convert.ToHexStringLower(ak.Name), "-o", "cred.out"],
            workingDirectory: _dir);
        Assert.True(r.ExitCode == 0, r.ToString());
        var cred = EncryptedCredential.FromTpm2ToolsFile(File.ReadAllBytes(In("cred.out")));

        Assert.Equal(secret, tpm.ActivateCredential(ak.Handle, ek.Handle, cred.CredentialBlob, cred.EncryptedSecret));

        // The same credential presented with another loaded object (the EK itself) fails the integrity check.
        var e = Assert.Throws<SoftwareTpmException>(() => tpm.ActivateCredential(ek.Handle, ek.Handle, cred.CredentialBlob, cred.EncryptedSecret));
        Assert.Equal(CredentialFailure.IntegrityCheckFailed, Assert.IsType<CredentialException>(e.InnerException).Failure);
    }
}
