using TrustPool.Server.Enrollment;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.Enrollment;

/// <summary>Issue 13, hole 7: the AK and EK algorithms enrollment accepts (<see cref="KeyStrength"/>).</summary>
public sealed class KeyStrengthTests
{
    private const TpmObjectAttributes AkAttributes = EnrollmentService.RequiredAkAttributes | TpmObjectAttributes.UserWithAuth;

    private static TpmtPublic RsaAk(TpmAlgorithmId nameAlg = TpmAlgorithmId.Sha256, TpmScheme? scheme = null, ushort bits = 2048, int modulusBytes = 256, uint exponent = 0)
    {
        var modulus = new byte[modulusBytes];
        new Random(1).NextBytes(modulus);
        if (modulus.Length > 0)
        {
            modulus[0] |= 0x80;
        }

        return new TpmtPublic(TpmAlgorithmId.Rsa, nameAlg, AkAttributes, [],
            new RsaPublicParameters(TpmSymmetricDefinition.Null, scheme ?? new TpmScheme(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.Sha256), bits, exponent, modulus), null);
    }

    private static TpmtPublic EccAk(TpmEccCurve curve = TpmEccCurve.NistP256, TpmScheme? scheme = null, int size = 32) =>
        new(TpmAlgorithmId.Ecc, TpmAlgorithmId.Sha256, AkAttributes, [],
            null, new EccPublicParameters(TpmSymmetricDefinition.Null, scheme ?? new TpmScheme(TpmAlgorithmId.EcDsa, TpmAlgorithmId.Sha256), curve, TpmScheme.Null,
                new byte[size], new byte[size]));

    [Fact]
    public void WeakAk_TemplateAks_Accepted()
    {
        Assert.Null(KeyStrength.WeakAk(RsaAk()));
        Assert.Null(KeyStrength.WeakAk(RsaAk(TpmAlgorithmId.Sha384, new TpmScheme(TpmAlgorithmId.RsaPss, TpmAlgorithmId.Sha512), 3072, 384, 65537)));
        Assert.Null(KeyStrength.WeakAk(EccAk()));
        Assert.Null(KeyStrength.WeakAk(EccAk(TpmEccCurve.NistP384, new TpmScheme(TpmAlgorithmId.EcDsa, TpmAlgorithmId.Sha384), 48)));
        Assert.Null(KeyStrength.WeakAk(EccAk(TpmEccCurve.NistP256, null, 31))); // a leading zero byte left off
    }

    [Fact]
    public void WeakAk_SoftwareTpmAks_Accepted()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        foreach (var alg in new[] { TpmKeyAlgorithm.Rsa2048, TpmKeyAlgorithm.EccP256 })
        {
            var ek = tpm.CreateEk(alg);
            var ak = tpm.CreateAk(alg);
            Assert.Null(KeyStrength.WeakAk(ak.Public));
            Assert.Null(KeyStrength.WeakEk(ek.Public));
            tpm.FlushContext(ek.Handle);
            tpm.FlushContext(ak.Handle);
        }
    }

    [Theory]
    [InlineData("sha1-name", "nameAlg Sha1")]
    [InlineData("sha1-scheme", "uses Sha1")]
    [InlineData("null-scheme", "no signing scheme")]
    [InlineData("rsaes-scheme", "RsaEs is not supported")]
    [InlineData("ecdsa-on-rsa", "EcDsa is not supported")]
    [InlineData("rsa-1024", "RSA-1024")]
    [InlineData("short-modulus", "modulus has 128 bytes")]
    [InlineData("exponent-3", "exponent is 3")]
    [InlineData("sm3-name", "nameAlg Sm3_256")]
    public void WeakAk_WeakRsa_Refused(string kind, string expected)
    {
        var ak = kind switch
        {
            "sha1-name" => RsaAk(TpmAlgorithmId.Sha1),
            "sha1-scheme" => RsaAk(scheme: new TpmScheme(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.Sha1)),
            "null-scheme" => RsaAk(scheme: TpmScheme.Null),
            "rsaes-scheme" => RsaAk(scheme: new TpmScheme(TpmAlgorithmId.RsaEs)),
            "ecdsa-on-rsa" => RsaAk(scheme: new TpmScheme(TpmAlgorithmId.EcDsa, TpmAlgorithmId.Sha256)),
            "rsa-1024" => RsaAk(bits: 1024, modulusBytes: 128),
            "short-modulus" => RsaAk(modulusBytes: 128),
            "exponent-3" => RsaAk(exponent: 3),
            "sm3-name" => RsaAk(TpmAlgorithmId.Sm3_256),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var why = KeyStrength.WeakAk(ak);
        Assert.NotNull(why);
        Assert.Contains(expected, why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("p192", "NistP192")]
    [InlineData("bn256", "BnP256")]
    [InlineData("ecdaa", "EcDaa is not supported")]
    [InlineData("sha1", "uses Sha1")]
    [InlineData("long-point", "1 to 32")]
    public void WeakAk_WeakEcc_Refused(string kind, string expected)
    {
        var ak = kind switch
        {
            "p192" => EccAk(TpmEccCurve.NistP192, size: 24),
            "bn256" => EccAk(TpmEccCurve.BnP256),
            "ecdaa" => EccAk(scheme: new TpmScheme(TpmAlgorithmId.EcDaa, TpmAlgorithmId.Sha256)),
            "sha1" => EccAk(scheme: new TpmScheme(TpmAlgorithmId.EcDsa, TpmAlgorithmId.Sha1)),
            "long-point" => EccAk(size: 33),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var why = KeyStrength.WeakAk(ak);
        Assert.NotNull(why);
        Assert.Contains(expected, why, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void WeakEk_RealInfineonEks_Accepted()
    {
        var dir = new[] { "keylime", "derived", "tpm2_objects_test" };
        Assert.Null(KeyStrength.WeakEk(TpmtPublic.ParseTpm2b(TestData.ReadBytes([.. dir, "infineon_ek_rsa.tpm2b_public.bin"]))));
        Assert.Null(KeyStrength.WeakEk(TpmtPublic.ParseTpm2b(TestData.ReadBytes([.. dir, "infineon_ek_ecc.tpm2b_public.bin"]))));
    }

    [SkippableFact]
    public void WeakAk_RealAks_ShaOneWindowsAkRefusedOthersAccepted()
    {
        Assert.Null(KeyStrength.WeakAk(TpmtPublic.ParseTpm2b(TestData.ReadBytes("keylime", "derived", "tpm2_objects_test", "ak_rsa.tpm2b_public.bin"))));
        Assert.Null(KeyStrength.WeakAk(TpmtPublic.ParseTpm2b(TestData.ReadBytes("keylime", "derived", "tpm2_objects_test", "ecc_ak_p256.tpm2b_public.bin"))));
        Assert.Null(KeyStrength.WeakAk(TpmtPublic.Parse(TestData.ReadBytes("go-tpm-tools", "derived", "gce-cos-85-nonce9009", "ak.tpmt_public.bin"))));

        // The Windows AK signs RSASSA/SHA-1: exactly what must not be enrolled.
        var windows = TpmtPublic.Parse(TestData.ReadBytes("go-attestation", "derived", "windows_gcp_shielded_vm", "ak.tpmt_public.bin"));
        Assert.Contains("Sha1", KeyStrength.WeakAk(windows), StringComparison.Ordinal);

        // Keylime's TPM_ALG_NULL-scheme key: the signer would choose the hash, SHA-1 included.
        var nullScheme = TpmtPublic.ParseTpm2b(TestData.ReadBytes("keylime", "derived", "tpm2_objects_test", "rsa_nullscheme.tpm2b_public.bin"));
        Assert.Contains("no signing scheme", KeyStrength.WeakAk(nullScheme), StringComparison.Ordinal);
    }

    [Fact]
    public void WeakEk_ShaOneNameOrXorSymmetric_Refused()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048).Public;
        var sha1 = new TpmtPublic(ek.Type, TpmAlgorithmId.Sha1, ek.ObjectAttributes, ek.AuthPolicy, ek.Rsa, null);
        Assert.Contains("EK nameAlg Sha1", KeyStrength.WeakEk(sha1), StringComparison.Ordinal);
        var xor = new TpmtPublic(ek.Type, ek.NameAlg, ek.ObjectAttributes, ek.AuthPolicy,
            ek.Rsa! with { Symmetric = new TpmSymmetricDefinition(TpmAlgorithmId.Xor, (ushort)TpmAlgorithmId.Sha256) }, null);
        Assert.Contains("is not AES-128/192/256 in CFB mode", KeyStrength.WeakEk(xor), StringComparison.Ordinal);
        var rsa1024 = new TpmtPublic(ek.Type, ek.NameAlg, ek.ObjectAttributes, ek.AuthPolicy,
            ek.Rsa! with { KeyBits = 1024, Modulus = ek.Rsa.Modulus[..128] }, null);
        Assert.Contains("RSA-1024", KeyStrength.WeakEk(rsa1024), StringComparison.Ordinal);
    }

    /// <summary>
    /// At quote time: an AK enrolled with RSASSA/SHA-256 never accepts a SHA-1 signature, even one that verifies
    /// with its key (same private key, only the hash differs): the downgrade is refused before the cryptography.
    /// </summary>
    [Fact]
    public void QuoteVerifier_ShaOneSignatureFromShaTwoFiftySixAk_SignatureSchemeMismatch()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var ak = new TpmtPublic(TpmAlgorithmId.Rsa, TpmAlgorithmId.Sha256, AkAttributes, [],
            new RsaPublicParameters(TpmSymmetricDefinition.Null, new TpmScheme(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.Sha256), 2048, 0, p.Modulus!), null);
        Assert.Null(KeyStrength.WeakAk(ak));
        using var key = AttestationKey.FromPublic(ak);
        var attest = new byte[] { 0xff, 0x54, 0x43, 0x47, 0x80, 0x18 };
        var pcrs = new PcrValues();
        var sha1 = TpmtSignature.Rsa(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.Sha1,
            rsa.SignData(attest, System.Security.Cryptography.HashAlgorithmName.SHA1, System.Security.Cryptography.RSASignaturePadding.Pkcs1));
        var fault = Assert.IsType<SignatureSchemeMismatch>(QuoteVerifier.Verify(key, attest, sha1, pcrs, [1]).Fault);
        Assert.Equal(TpmAlgorithmId.Sha1, fault.HashAlg);

        // The same bytes signed with the enrolled scheme get past the scheme and signature checks (and fail later, on content).
        var sha256 = TpmtSignature.Rsa(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.Sha256,
            rsa.SignData(attest, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1));
        var later = QuoteVerifier.Verify(key, attest, sha256, pcrs, [1]).Fault;
        Assert.IsNotType<SignatureSchemeMismatch>(later);
        Assert.IsNotType<SignatureInvalid>(later);
    }
}
