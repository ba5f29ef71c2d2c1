using System.Security.Cryptography;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Software;

namespace TrustPool.Tpm.Tests.Client;

public sealed partial class TpmClientSwtpmTests
{
    /// <summary>Acceptance (issue 2): our MakeCredential against swtpm's real EK, activated on swtpm by our client.</summary>
    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.Rsa2048, TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.EccP256, TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.Rsa2048, TpmKeyAlgorithm.Rsa2048)]
    public void ActivateCredential_OurMakeCredentialForSwtpmEk_ReturnsSecret(TpmKeyAlgorithm ekAlgorithm, TpmKeyAlgorithm akAlgorithm)
    {
        using var tpm = _fx.Connect();
        var ek = tpm.CreateEk(ekAlgorithm);
        var ak = tpm.CreateAk(akAlgorithm);
        try
        {
            var secret = RandomNumberGenerator.GetBytes(32);
            var credential = CredentialProtection.MakeCredential(ek.Public, ak.Name, secret);
            Assert.Equal(secret, tpm.ActivateCredential(ak.Handle, ek.Handle, credential.CredentialBlob, credential.EncryptedSecret));

            // A credential made for another TPM's EK (a software TPM's) does not activate here.
            using var other = SoftwareTpm.CreateInMemory();
            var foreign = CredentialProtection.MakeCredential(other.CreateEk(ekAlgorithm).Public, ak.Name, secret);
            Assert.Throws<TpmException>(() => tpm.ActivateCredential(ak.Handle, ek.Handle, foreign.CredentialBlob, foreign.EncryptedSecret));
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
            tpm.FlushContext(ek.Handle);
        }
    }
}
