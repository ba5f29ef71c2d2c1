using System.Security.Cryptography;
using TrustPool.Testing;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Tests.Credentials;

/// <summary>
/// Our MakeCredential against the real tools both ways: activated by tpm2_activatecredential on swtpm's real EK,
/// and tpm2_makecredential's offline output (-T none) activated by our software ActivateCredential.
/// </summary>
[Trait("Category", "Integration")]
[Collection(SwtpmCollection.Name)]
public sealed class MakeCredentialInteropTests : IDisposable
{
    private readonly string _dir = TestTemp.CreateDirectory("trustpool-cred-").FullName;

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

    [SkippableTheory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void MakeCredential_ForSwtpmEk_IsActivatedByTpm2Tools(string ekAlgorithm)
    {
        using var swtpm = SwtpmInstance.Start();
        var tools = new Tpm2Tools(swtpm.Tcti, _dir);
        tools.CreateEkAndAk(ekAlgorithm);
        var ek = TpmtPublic.ParseTpm2b(File.ReadAllBytes(Path.Combine(_dir, "ek.pub")));
        var akName = File.ReadAllBytes(Path.Combine(_dir, "ak.name"));
        Assert.Equal(ekAlgorithm == "rsa" ? TpmAlgorithmId.Rsa : TpmAlgorithmId.Ecc, ek.Type);
        Assert.Equal(akName, TpmtPublic.ParseTpm2b(File.ReadAllBytes(Path.Combine(_dir, "ak.pub"))).Name);

        var secret = RandomNumberGenerator.GetBytes(32);
        File.WriteAllBytes(Path.Combine(_dir, "cred.out"), CredentialProtection.MakeCredential(ek, akName, secret).ToTpm2ToolsFile());
        var r = tools.ActivateCredential("cred.out", "actcred.out");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(secret, File.ReadAllBytes(Path.Combine(_dir, "actcred.out")));
    }

    [SkippableTheory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void MakeCredential_ForAnotherAkName_FailsActivationOnSwtpm(string ekAlgorithm)
    {
        using var swtpm = SwtpmInstance.Start();
        var tools = new Tpm2Tools(swtpm.Tcti, _dir);
        tools.CreateEkAndAk(ekAlgorithm);
        var ek = TpmtPublic.ParseTpm2b(File.ReadAllBytes(Path.Combine(_dir, "ek.pub")));
        var otherName = File.ReadAllBytes(Path.Combine(_dir, "ak.name"));
        otherName[^1] ^= 0x01;

        File.WriteAllBytes(Path.Combine(_dir, "cred.out"), CredentialProtection.MakeCredential(ek, otherName, [1, 2, 3, 4]).ToTpm2ToolsFile());
        var r = tools.ActivateCredential("cred.out", "actcred.out");

        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.False(File.Exists(Path.Combine(_dir, "actcred.out")));
    }

    [SkippableTheory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void MakeCredential_ForAnotherEk_FailsActivationOnSwtpm(string ekAlgorithm)
    {
        using var swtpm = SwtpmInstance.Start();
        var tools = new Tpm2Tools(swtpm.Tcti, _dir);
        tools.CreateEkAndAk(ekAlgorithm);
        var akName = File.ReadAllBytes(Path.Combine(_dir, "ak.name"));
        using var rsa = RSA.Create(2048);
        using var ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = ecdh.ExportParameters(false).Q;
        var otherEk = ekAlgorithm == "rsa"
            ? TpmTemplates.Ek(TpmKeyAlgorithm.Rsa2048, rsa.ExportParameters(false).Modulus)
            : TpmTemplates.Ek(TpmKeyAlgorithm.EccP256, eccX: q.X, eccY: q.Y);

        File.WriteAllBytes(Path.Combine(_dir, "cred.out"), CredentialProtection.MakeCredential(otherEk, akName, [5, 6, 7]).ToTpm2ToolsFile());
        var r = tools.ActivateCredential("cred.out", "actcred.out");

        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.False(File.Exists(Path.Combine(_dir, "actcred.out")));
    }

    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.Rsa2048)]
    [InlineData(TpmKeyAlgorithm.EccP256)]
    public void Tpm2MakeCredentialOffline_IsActivatedBySoftwareActivateCredential(TpmKeyAlgorithm algorithm)
    {
        var tool = Integration.RequireTool("tpm2_makecredential");
        using var rsa = RSA.Create(2048);
        using var ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var rsaPrivate = rsa.ExportParameters(true);
        var q = ecdh.ExportParameters(false).Q;
        var ek = algorithm == TpmKeyAlgorithm.Rsa2048
            ? TpmTemplates.Ek(algorithm, rsaPrivate.Modulus)
            : TpmTemplates.Ek(algorithm, eccX: q.X, eccY: q.Y);
        using var ak = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var akq = ak.ExportParameters(false).Q;
        var akName = TpmTemplates.Ak(TpmKeyAlgorithm.EccP256, eccX: akq.X, eccY: akq.Y).Name;
        var secret = RandomNumberGenerator.GetBytes(20);
        File.WriteAllBytes(Path.Combine(_dir, "ek.pub"), ek.ToTpm2b());
        File.WriteAllBytes(Path.Combine(_dir, "secret"), secret);

        var r = ProcessRunner.Run(tool, ["-T", "none", "-u", "ek.pub", "-s", "secret", "-n", Convert.ToHexStringLower(akName), "-o", "cred.out"],
            workingDirectory: _dir);
        Assert.True(r.ExitCode == 0, r.ToString());

        var cred = EncryptedCredential.FromTpm2ToolsFile(File.ReadAllBytes(Path.Combine(_dir, "cred.out")));
        var recovered = algorithm == TpmKeyAlgorithm.Rsa2048
            ? CredentialProtection.ActivateCredential(ek, rsaPrivate, akName, cred.CredentialBlob, cred.EncryptedSecret)
            : CredentialProtection.ActivateCredential(ek, ecdh, akName, cred.CredentialBlob, cred.EncryptedSecret);
        Assert.Equal(secret, recovered);

        var wrongName = (byte[])akName.Clone();
        wrongName[5] ^= 0x80;
        var e = Assert.Throws<CredentialException>(() => algorithm == TpmKeyAlgorithm.Rsa2048
            ? CredentialProtection.ActivateCredential(ek, rsaPrivate, wrongName, cred.CredentialBlob, cred.EncryptedSecret)
            : CredentialProtection.ActivateCredential(ek, ecdh, wrongName, cred.CredentialBlob, cred.EncryptedSecret));
        Assert.Equal(CredentialFailure.IntegrityCheckFailed, e.Failure);
    }
}
