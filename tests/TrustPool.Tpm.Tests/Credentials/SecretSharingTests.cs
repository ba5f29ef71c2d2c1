using System.Security.Cryptography;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Credentials;

/// <summary>
/// Derandomized secret sharing against the labeled-encapsulation vectors of chrisfenner/tpm-test-vectors
/// (README and vectors/ecc_labeled_encaps.json), which were validated there against a TPM simulator.
/// </summary>
public class SecretSharingTests
{
    [Theory]
    [InlineData("README 08_R_P256_SHA256_128 (validated with TPM2_ActivateCredential)", "IDENTITY",
        "6124ee9ee8b4727619558d19dbb80292fd4381aa51a40b1d264cdef4317b6ffa",
        "0023000b00030460000000060080004300100003001000209cb3efad1473a317e0cfc99c48ccfd30769885ce8824b2679374aa8ef2415cb400203c8797c503170365efd4904b73e42c94a5ca23ae1ea7a352201e36abb47bc04b",
        "e1f5d7dde52ddc61b4dd28e6489d643183c8857411b0de2a271d0822c0e21852",
        "0020518aea5837a2547ae439f2e571bf934d2f2caaeca715c415008215e7d058fc6f002099ed18644411548c82e042ea68eb6e9be592325b6a4cff47b5f1cf7dc337ac01")]
    [InlineData("12_P256_SHA256_256_restricted (validated with TPM2_ActivateCredential)", "IDENTITY",
        "9efafbaf83563f8ac5a27815eae1017ca78c92f9cde976b1a2e0ad95b8a19bc1",
        "0023000b0003046000000006010000430010000300100020fe4cf1f3e8f583c19e1af6190a7c20751658914a93cd77efb871cb1557377560002007b6b7c55bea1d17b1a9d96f367cf315b2942d517fd8642e9d9157036831c4d5",
        "2a03ff2b874e44d36a567e67a0bf08227b9e65a0e9ca5215d4a9e573c23159a1",
        "002017ca41bd94c7f12436cf135ff1852408ef6a1ee1989e4e6250ef73c348dd6fa90020346f6016d6f6a2ef8e07df6d7b53b362005fc21cda1e1ab25e61f38a87e017b8")]
    [InlineData("06_P256_SHA256_128_restricted SECRET (validated with TPM2_StartAuthSession)", "SECRET",
        "897989c19f950c5f32f3a2156832bb49b39b0562f372e6e180be309c2bbc07c0",
        "0023000b00030460000000060080004300100003001000207d1f639091f4f93753e5ca964f537491e2ee50058bdf8d93c2f6f165d02a6f2c00205b4e618a7dad9e0cbc7d974ff78ac75ac3ca7be3c54a2b064e0f42f3b43de892",
        "428bee6074a8d9c43979617363ca78cedc7b56673d43750678c965d0fddeb4be",
        "00208588b3516e0cc43073b2577362ff1b712373213043bcb0c7364c74bfc6f626e200203534ac662cd4462172cdd0dbe3f0d0e28edb9e08484a3a34b8e8e00d9cb5b4c1")]
    public void EcdhCreate_KnownEphemeralKey_GivesPublishedSecretAndCiphertext(string description, string label, string ephemeralPrivate,
        string publicKey, string secret, string ciphertext)
    {
        var key = TpmtPublic.Parse(Convert.FromHexString(publicKey));
        var ct = Convert.FromHexString(ciphertext);
        var r = new TpmReader(ct);
        var ephemeral = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Convert.FromHexString(ephemeralPrivate),
            Q = new ECPoint { X = r.ReadSizedBytes("x", 32).ToArray(), Y = r.ReadSizedBytes("y", 32).ToArray() },
        };

        var (seed, encrypted) = SecretSharing.EcdhCreate(key, label, ephemeral);

        Assert.True(secret == Convert.ToHexStringLower(seed), description);
        Assert.Equal(ciphertext, Convert.ToHexStringLower(encrypted));
    }

    [Fact]
    public void RsaEncrypt_KnownOaepSeed_GivesPublishedCiphertext()
    {
        // README 08_R_2048_SHA256_128: restricted RSA-2048, nameAlg SHA-256, label SECRET (validated with TPM2_StartAuthSession).
        var key = TpmtPublic.Parse(Convert.FromHexString(
            "0001000b00030460000000060080004300100800000000000100801a7b4258c5fb7f4efb049ed5a1344194b476f9c3e348644d3d1eae9a1496c020640f900b905c25afd5aa7d33eba9778b289f9bd5a07e80e824d27b23b07e20b88a7e8c6d0a40be032a6e7560a629aec083b867fd7a579f84eed757540a04985eb0ff314563ffea7540050ccb856c2237cb2baf569afb2b8ae890c3fda844dd778dd51705457a41f643cbc175b29dcea072aba5ad98f06d04c02f2dfd9771fd11b9e0bfe60cd746c0f2a9d691aa5e1278580c5b2adc6c8f99a50e910ef387cd0ed494ae37ebcc75051cd20670596758b3d954a464748622b58fe56932f3dfa8ef8afd00ad5784bf50760bd457255e124491d9c069ab15b876f3b199a39be505"));
        var oaepSeed = Convert.FromHexString("00944ba581fd9047559a45aad81bb589ef55f8f67a563a05bb0c63a5ef64330c");
        var secret = Convert.FromHexString("33d5582e002e689e7ecda6c53856dddde8bfde2c76c6f644f40ced8706995e00");

        var ciphertext = SecretSharing.RsaEncrypt(key, "SECRET", secret, oaepSeed);

        Assert.Equal(
            "2659f109f05b8afcd25e10db8b8682ab81b88b8f371fb41bf3a185076fba827764f57a70705325bb7f3672984b70c6a9cd1ecda8904ee351c85b2123e8543796bda2288568903cb291b0ab222f1aa3180f1bd26e30ac675b72a5030067b1827c52ca368f10da9c702c6bacd7361cac642c41e25ad604d51b070602a6c5348299647a8b0fc667833df9649e36e86867af5d0a3de683cd19fc9fe14d382a44855f315c41b9656061399ed0f9cb1a769310a07f8dc7690d71e56d114cce70ee42feb7bbd63cb80443235d72964abc6b0dd44be93f044d2119d207d3959a70bf25e441c031c05d1dd2566dcb552c10c151391476589f4492e789dce60bdd4f5b4705",
            Convert.ToHexStringLower(ciphertext));
    }

    [Fact]
    public void RsaRecover_OwnEncryption_RoundTripsAndAgreesWithDotnetOaepWithoutLabel()
    {
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(includePrivateParameters: true);
        var key = global::TrustPool.Tpm.Client.TpmTemplates.Ek(global::TrustPool.Tpm.Client.TpmKeyAlgorithm.Rsa2048, p.Modulus);
        var (seed, encrypted) = SecretSharing.Create(key, "IDENTITY");
        Assert.Equal(seed, SecretSharing.RsaRecover(key, p, "IDENTITY", encrypted));

        // Cross-check the OAEP encoder with .NET's own OAEP (empty label is all .NET offers): our empty-label
        // encoding must decrypt with RSA.Decrypt(OaepSHA256). TpmKdf adds the terminator, so use the raw encoder.
        var em = Oaep.Encode(TpmAlgorithmId.Sha256, [], seed, RandomNumberGenerator.GetBytes(32), 256);
        var n = new System.Numerics.BigInteger(p.Modulus, isUnsigned: true, isBigEndian: true);
        var c = System.Numerics.BigInteger.ModPow(new System.Numerics.BigInteger(em, isUnsigned: true, isBigEndian: true), 65537, n);
        var cBytes = new byte[256];
        c.TryWriteBytes(cBytes.AsSpan(256 - c.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);
        Assert.Equal(seed, rsa.Decrypt(cBytes, RSAEncryptionPadding.OaepSHA256));
    }

    [Fact]
    public void RsaRecover_WrongLabel_IsRejected()
    {
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(includePrivateParameters: true);
        var key = global::TrustPool.Tpm.Client.TpmTemplates.Ek(global::TrustPool.Tpm.Client.TpmKeyAlgorithm.Rsa2048, p.Modulus);
        var (_, encrypted) = SecretSharing.Create(key, "DUPLICATE");
        var e = Assert.Throws<CredentialException>(() => SecretSharing.RsaRecover(key, p, "IDENTITY", encrypted));
        Assert.Equal(CredentialFailure.SecretRejected, e.Failure);
    }
}
