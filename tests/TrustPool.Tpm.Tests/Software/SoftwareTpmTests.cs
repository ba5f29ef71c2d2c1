using System.Security.Cryptography;
using CsCheck;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Tests.Support;

using TrustPool.Testing;

namespace TrustPool.Tpm.Tests.Software;

public sealed class SoftwareTpmTests : IDisposable
{
    private readonly string _dir = TestTemp.CreateDirectory("trustpool-swtpm-state-").FullName;

    private string StateFile => Path.Combine(_dir, "tpm.json");

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

    [Theory]
    [InlineData(TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.Rsa2048)]
    public void CreateEkAndAk_Twice_GiveSameKeysOnNewHandles(TpmKeyAlgorithm algorithm)
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ek1 = tpm.CreateEk(algorithm);
        var ek2 = tpm.CreateEk(algorithm);
        var ak1 = tpm.CreateAk(algorithm);
        var ak2 = tpm.CreateAk(algorithm);

        Assert.Equal(ek1.Name, ek2.Name);
        Assert.Equal(ak1.Name, ak2.Name);
        Assert.NotEqual(ek1.Handle, ek2.Handle);
        Assert.True(ek1.Handle.IsTransient);
        Assert.NotEqual(ek1.Name, ak1.Name);
        Assert.Equal(TpmTemplates.EkAttributes, ek1.Public.ObjectAttributes);
        Assert.Equal(TpmTemplates.AkAttributes, ak1.Public.ObjectAttributes);
        Assert.Equal(TpmTemplates.EkAuthPolicy.ToArray(), ek1.Public.AuthPolicy);
        Assert.Equal(ek1.Public.Bytes, tpm.ReadPublic(ek1.Handle).Bytes);
    }

    [Fact]
    public void Open_AfterRestart_KeepsIdentityNvAndResetCount()
    {
        byte[] ekName, akName, ekRsaName;
        uint resetCount, restartCount;
        using (var tpm = SoftwareTpm.Open(StateFile))
        {
            ekName = tpm.CreateEk(TpmKeyAlgorithm.EccP256).Name;
            ekRsaName = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048).Name;
            var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
            akName = ak.Name;
            tpm.MakePersistent(ak.Handle, TpmHandle.DefaultAkPersistent);
            tpm.NvDefineSpace(0x01500000, 8, TpmNvAttributes.AuthRead | TpmNvAttributes.AuthWrite);
            tpm.NvWrite(0x01500000, "asset-01"u8);
            tpm.Reboot();
            tpm.ExtendPcr(0, [new TpmtHa(TpmAlgorithmId.Sha256, new byte[32])]);
            resetCount = tpm.ClockInfo.ResetCount;
            restartCount = tpm.ClockInfo.RestartCount;
        }

        using var reopened = SoftwareTpm.Open(StateFile);

        Assert.Equal(ekName, reopened.CreateEk(TpmKeyAlgorithm.EccP256).Name);
        Assert.Equal(ekRsaName, reopened.CreateEk(TpmKeyAlgorithm.Rsa2048).Name);
        Assert.Equal(akName, reopened.CreateAk(TpmKeyAlgorithm.EccP256).Name);
        Assert.Equal(akName, reopened.ReadPublic(TpmHandle.DefaultAkPersistent).Name);
        Assert.Equal("asset-01"u8.ToArray(), reopened.NvRead(0x01500000));
        Assert.Equal(1u, resetCount);
        Assert.Equal(resetCount, reopened.ClockInfo.ResetCount);
        Assert.Equal(restartCount + 1, reopened.ClockInfo.RestartCount);

        // A restart starts with fresh PCRs, like a real TPM after Startup(CLEAR).
        Assert.Equal(new byte[32], reopened.ReadPcrs(PcrSelection.Single(TpmAlgorithmId.Sha256, [0])).Get(TpmAlgorithmId.Sha256, 0));
    }

    [Fact]
    public void Open_StateFile_IsOwnerReadWriteOnlyAndLeavesNoTemporaryFiles()
    {
        using (var tpm = SoftwareTpm.Open(StateFile))
        {
            tpm.CreateEk(TpmKeyAlgorithm.EccP256);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StateFile));
        }

        Assert.Equal([StateFile], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Reboot_ResetsPcrsAndIncrementsResetCount()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var all = PcrSelection.Parse("sha1:all+sha256:all+sha384:all");
        for (var i = 0; i < 24; i++)
        {
            tpm.ExtendPcr(i, [new TpmtHa(TpmAlgorithmId.Sha1, SHA1.HashData([(byte)i])), new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData([(byte)i])),
                new TpmtHa(TpmAlgorithmId.Sha384, SHA384.HashData([(byte)i]))]);
        }

        Assert.All(tpm.ReadPcrs(all).All(), p => Assert.NotEqual(new byte[p.Value.Length], p.Value));
        var before = tpm.ClockInfo;
        var ek = tpm.CreateEk(TpmKeyAlgorithm.EccP256);

        tpm.Reboot();

        var after = tpm.ReadPcrs(all);
        Assert.Equal(72, after.All().Count());
        Assert.All(after.All(), p => Assert.Equal(new byte[p.Value.Length], p.Value));
        Assert.Equal(before.ResetCount + 1, tpm.ClockInfo.ResetCount);
        Assert.Equal(0u, tpm.ClockInfo.RestartCount);
        Assert.Throws<SoftwareTpmException>(() => tpm.ReadPublic(ek.Handle));
    }

    [Fact]
    public void ExtendPcr_ComputesHashOfOldValueAndDigest()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var d = SHA256.HashData("kernel"u8);
        tpm.ExtendPcr(9, [new TpmtHa(TpmAlgorithmId.Sha256, d)]);
        tpm.ExtendPcr(9, [new TpmtHa(TpmAlgorithmId.Sha256, d)]);

        var once = SHA256.HashData([.. new byte[32], .. d]);
        Assert.Equal(SHA256.HashData([.. once, .. d]), tpm.ReadPcrs(PcrSelection.Single(TpmAlgorithmId.Sha256, [9])).Get(TpmAlgorithmId.Sha256, 9));
        Assert.Equal(new byte[20], tpm.ReadPcrs(PcrSelection.Single(TpmAlgorithmId.Sha1, [9])).Get(TpmAlgorithmId.Sha1, 9));
        Assert.Throws<SoftwareTpmException>(() => tpm.ExtendPcr(24, [new TpmtHa(TpmAlgorithmId.Sha256, d)]));
        Assert.Throws<SoftwareTpmException>(() => tpm.ExtendPcr(1, [new TpmtHa(TpmAlgorithmId.Sha512, new byte[64])]));
    }

    [Theory]
    [InlineData(TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.Rsa2048)]
    public void Quote_IsGenuineTpmsAttestSignedByAk(TpmKeyAlgorithm algorithm)
    {
        var time = new ManualTimeProvider();
        using var tpm = SoftwareTpm.CreateInMemory(time);
        for (var i = 0; i < 10; i++)
        {
            tpm.ExtendPcr(i, [new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData([(byte)i])), new TpmtHa(TpmAlgorithmId.Sha1, SHA1.HashData([(byte)i]))]);
        }

        var ak = tpm.CreateAk(algorithm);
        var selection = PcrSelection.Parse("sha256:0,1,2,3,4,5,6,7,8,9+sha1:0,7");
        var nonce = RandomNumberGenerator.GetBytes(32);
        time.Advance(TimeSpan.FromMilliseconds(1234));

        var quote = tpm.Quote(ak.Handle, nonce, selection);

        var attest = TpmsAttest.Parse(quote.Attest);
        Assert.Equal(TpmLimits.GeneratedValue, attest.Magic);
        Assert.Equal(TpmStructureTag.AttestQuote, attest.Type);
        Assert.Equal(nonce, attest.ExtraData);
        Assert.Equal(SoftwareTpm.FirmwareVersion, attest.FirmwareVersion);
        Assert.Equal(1234ul, attest.ClockInfo.Clock);
        Assert.True(attest.ClockInfo.Safe);
        Assert.Equal(34, attest.QualifiedSigner.Length);
        var info = Assert.IsType<QuoteInfo>(attest.Attested);
        Assert.Equal(selection, info.PcrSelect);
        Assert.Equal(SoftwareTpmTestKit.PcrDigest(TpmAlgorithmId.Sha256, selection, tpm.ReadPcrs(selection)), info.PcrDigest);
        Assert.True(SoftwareTpmTestKit.VerifySignature(ak.Public, quote.Attest, quote.Signature));

        var tampered = (byte[])quote.Attest.Clone();
        tampered[^1] ^= 1;
        Assert.False(SoftwareTpmTestKit.VerifySignature(ak.Public, tampered, quote.Signature));
    }

    [Fact]
    public void EndorsementQualifiedName_MatchesSwtpm()
    {
        // swtpm 0.7.1 + tpm2-tools 5.4: `tpm2_createek -G ecc` then `tpm2_readpublic` printed this name and qualified name.
        var name = Convert.FromHexString("000b823cf533f10492f28659d35a48cde00ce1b173705bb8f68852c4f95414d10a5b");
        Assert.Equal("000b3bd910511b6e420006689be590ed8fb83fef14d9a7450b69e9cc3d9d1338e8f0",
            Convert.ToHexStringLower(SoftwareTpm.EndorsementQualifiedName(TpmAlgorithmId.Sha256, name)));
    }

    [Fact]
    public void Quote_QualifiedSigner_IsTheAkQualifiedName()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var attest = TpmsAttest.Parse(tpm.Quote(ak.Handle, [], PcrSelection.Single(TpmAlgorithmId.Sha256, [0])).Attest);
        Assert.Equal(SoftwareTpm.EndorsementQualifiedName(TpmAlgorithmId.Sha256, ak.Name), attest.QualifiedSigner);
    }

    [Fact]
    public void Quote_WithEk_IsRefused()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(TpmKeyAlgorithm.EccP256);
        var e = Assert.Throws<SoftwareTpmException>(() => tpm.Quote(ek.Handle, [1], PcrSelection.Single(TpmAlgorithmId.Sha256, [0])));
        Assert.Equal(0x19Cu, e.ResponseCode);
    }

    [Fact]
    public void Quote_UnallocatedBank_IsFilteredLikeARealTpm()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var quote = tpm.Quote(ak.Handle, [], PcrSelection.Parse("sha512:0,1+sha256:0"));
        var info = Assert.IsType<QuoteInfo>(TpmsAttest.Parse(quote.Attest).Attested);
        Assert.Equal(0, info.PcrSelect[0].Count);
        Assert.Equal(1, info.PcrSelect[1].Count);
    }

    [Fact]
    public void Clock_AdvancesWithTimeAndIsPersisted()
    {
        var time = new ManualTimeProvider();
        using (var tpm = SoftwareTpm.Open(StateFile, time))
        {
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(5000ul, tpm.ClockInfo.Clock);
        }

        // Time while the TPM is "off" does not count, as for a real TPM's Clock.
        time.Advance(TimeSpan.FromHours(1));
        using var reopened = SoftwareTpm.Open(StateFile, time);
        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(5250ul, reopened.ClockInfo.Clock);
    }

    [Theory]
    [InlineData(TpmKeyAlgorithm.Rsa2048, TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.EccP256, TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.EccP256, TpmKeyAlgorithm.Rsa2048)]
    public void ActivateCredential_OurMakeCredential_RecoversSecret(TpmKeyAlgorithm ekAlgorithm, TpmKeyAlgorithm akAlgorithm)
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(ekAlgorithm);
        var ak = tpm.CreateAk(akAlgorithm);
        var secret = RandomNumberGenerator.GetBytes(32);
        var made = CredentialProtection.MakeCredential(ek.Public, ak.Name, secret);

        Assert.Equal(secret, tpm.ActivateCredential(ak.Handle, ek.Handle, made.CredentialBlob, made.EncryptedSecret));
    }

    [Fact]
    public void ActivateCredential_ForAnotherEk_FailsWithIntegrity()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        using var other = SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(TpmKeyAlgorithm.EccP256);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var made = CredentialProtection.MakeCredential(other.CreateEk(TpmKeyAlgorithm.EccP256).Public, ak.Name, [1, 2, 3]);

        var e = Assert.Throws<SoftwareTpmException>(() => tpm.ActivateCredential(ak.Handle, ek.Handle, made.CredentialBlob, made.EncryptedSecret));
        Assert.Equal(0x1DFu, e.ResponseCode); // TPM_RC_INTEGRITY + TPM_RC_P + TPM_RC_1 (credentialBlob)
        Assert.IsType<CredentialException>(e.InnerException);
    }

    [Fact]
    public void ActivateCredential_ForAnotherAkName_Fails()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var otherAk = tpm.CreateAk(TpmKeyAlgorithm.Rsa2048);
        var made = CredentialProtection.MakeCredential(ek.Public, otherAk.Name, [1, 2, 3]);

        Assert.Throws<SoftwareTpmException>(() => tpm.ActivateCredential(ak.Handle, ek.Handle, made.CredentialBlob, made.EncryptedSecret));
        Assert.Equal([1, 2, 3], tpm.ActivateCredential(otherAk.Handle, ek.Handle, made.CredentialBlob, made.EncryptedSecret));
    }

    [Fact]
    public void ActivateCredential_AkAsEkHandle_IsRefused()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(TpmKeyAlgorithm.EccP256);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var made = CredentialProtection.MakeCredential(ek.Public, ak.Name, [1]);
        var e = Assert.Throws<SoftwareTpmException>(() => tpm.ActivateCredential(ak.Handle, ak.Handle, made.CredentialBlob, made.EncryptedSecret));
        Assert.Equal(0x28Au, e.ResponseCode);
    }

    [Theory]
    [InlineData(TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.Rsa2048)]
    public void ActivateCredential_MutatedInput_ThrowsOnlySoftwareTpmException(TpmKeyAlgorithm ekAlgorithm)
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(ekAlgorithm);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var secret = new byte[] { 7, 7, 7 };
        var made = CredentialProtection.MakeCredential(ek.Public, ak.Name, secret);
        FixedSeed.Check(Gen.Select(Gen.Byte.Array[0, 300], Gen.Bool, Gen.Int[0, 300]), ekAlgorithm == TpmKeyAlgorithm.Rsa2048 ? 200 : 400, m =>
        {
            var (noise, onBlob, at) = m;
            var blob = made.CredentialBlob;
            var enc = made.EncryptedSecret;
            var mutated = at < 150 ? noise : [.. (onBlob ? blob : enc)[..Math.Min(at - 150, (onBlob ? blob : enc).Length)], .. noise];
            try
            {
                var result = onBlob ? tpm.ActivateCredential(ak.Handle, ek.Handle, mutated, enc) : tpm.ActivateCredential(ak.Handle, ek.Handle, blob, mutated);
                return result.AsSpan().SequenceEqual(secret);
            }
            catch (SoftwareTpmException e)
            {
                return e.InnerException is CredentialException;
            }
        });
    }

    [Fact]
    public void Nv_DefineWriteReadCertify_RoundTripsAndCertificationVerifies()
    {
        const uint index = 0x01500010;
        using var tpm = SoftwareTpm.CreateInMemory();
        tpm.NvDefineSpace(index, 16, TpmNvAttributes.AuthRead | TpmNvAttributes.AuthWrite | TpmNvAttributes.NoDA);
        var before = tpm.NvReadPublic(index);
        Assert.False(before.Attributes.HasFlag(TpmNvAttributes.Written));
        Assert.Throws<SoftwareTpmException>(() => tpm.NvRead(index));

        tpm.NvWrite(index, "0123456789abcdef"u8);
        tpm.NvWrite(index, "XY"u8, offset: 4);
        var pub = tpm.NvReadPublic(index);
        Assert.True(pub.Attributes.HasFlag(TpmNvAttributes.Written));
        Assert.Equal(16, pub.DataSize);
        Assert.Equal("0123XY6789abcdef"u8.ToArray(), tpm.NvRead(index));

        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var nonce = RandomNumberGenerator.GetBytes(16);
        var cert = tpm.NvCertify(ak.Handle, index, nonce, size: 6, offset: 2);
        var attest = TpmsAttest.Parse(cert.Attest);
        Assert.Equal(TpmStructureTag.AttestNv, attest.Type);
        Assert.Equal(nonce, attest.ExtraData);
        var info = Assert.IsType<NvCertifyInfo>(attest.Attested);
        Assert.Equal(pub.Name, info.IndexName);
        Assert.Equal(2, info.Offset);
        Assert.Equal("23XY67"u8.ToArray(), info.NvContents);
        Assert.True(SoftwareTpmTestKit.VerifySignature(ak.Public, cert.Attest, cert.Signature));

        Assert.Equal(TpmRcNvRange, Assert.Throws<SoftwareTpmException>(() => tpm.NvWrite(index, new byte[2], offset: 15)).ResponseCode);
        Assert.Equal(0x14Cu, Assert.Throws<SoftwareTpmException>(() => tpm.NvDefineSpace(index, 4, TpmNvAttributes.AuthRead)).ResponseCode);
        tpm.NvUndefineSpace(index);
        Assert.Equal(0x18Bu, Assert.Throws<SoftwareTpmException>(() => tpm.NvReadPublic(index)).ResponseCode);
    }

    private const uint TpmRcNvRange = 0x146;

    [Fact]
    public void Handles_FlushPersistEvict_BehaveLikeEvictControl()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var persistent = new TpmHandle(0x81010099);
        tpm.MakePersistent(ak.Handle, persistent);
        Assert.Throws<SoftwareTpmException>(() => tpm.MakePersistent(ak.Handle, persistent));
        tpm.FlushContext(ak.Handle);
        Assert.Throws<SoftwareTpmException>(() => tpm.FlushContext(ak.Handle));
        Assert.Throws<SoftwareTpmException>(() => tpm.ReadPublic(ak.Handle));

        var quote = tpm.Quote(persistent, [1, 2], PcrSelection.Single(TpmAlgorithmId.Sha256, [0]));
        Assert.True(SoftwareTpmTestKit.VerifySignature(ak.Public, quote.Attest, quote.Signature));

        tpm.EvictPersistent(persistent);
        Assert.Throws<SoftwareTpmException>(() => tpm.ReadPublic(persistent));
        Assert.Throws<SoftwareTpmException>(() => tpm.EvictPersistent(persistent));
    }

    [Fact]
    public void GetInfo_DescribesTheSoftwareTpm()
    {
        using var tpm = SoftwareTpm.CreateInMemory();
        var info = tpm.GetInfo();
        Assert.True(tpm.IsSimulator);
        Assert.Equal("TPSW", info.Manufacturer);
        Assert.Equal(0x54505357u, info.ManufacturerId);
        Assert.Equal("TrustPool software TPM", info.VendorString);
        Assert.Equal([TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256, TpmAlgorithmId.Sha384], info.PcrBanks);
        Assert.Equal("1.0.0.0", info.FirmwareVersionText);
    }

    [Theory]
    [InlineData("garbage", "not json at all")]
    [InlineData("truncated", "{\"version\": 1, \"clockMs\": 5, \"keys\": {")]
    [InlineData("future version", "{\"version\": 99}")]
    [InlineData("unknown member", "{\"version\": 1, \"bogus\": true}")]
    [InlineData("unknown key slot", "{\"version\": 1, \"keys\": {\"sk-dsa\": {\"public\": \"AAE=\", \"pkcs8\": \"AAE=\"}}}")]
    [InlineData("dangling persistent handle", "{\"version\": 1, \"persistent\": {\"2164326402\": \"ak-ecc\"}}")]
    [InlineData("NV data size mismatch", "{\"version\": 1, \"nv\": {\"22020096\": {\"attributes\": 0, \"size\": 8, \"written\": true, \"data\": \"AAE=\"}}}")]
    [InlineData("null document", "null")]
    public void Open_CorruptStateFile_ThrowsInvalidDataExceptionNamingTheFile(string description, string content)
    {
        File.WriteAllText(StateFile, content);
        var e = Assert.Throws<InvalidDataException>(() => SoftwareTpm.Open(StateFile));
        Assert.True(e.Message.Contains(StateFile, StringComparison.Ordinal), description + ": " + e.Message);
    }

    [Fact]
    public void Open_KeyNotMatchingItsPublicArea_IsReportedAsCorruptAtFirstUse()
    {
        using (var tpm = SoftwareTpm.Open(StateFile))
        {
            tpm.CreateAk(TpmKeyAlgorithm.EccP256);
            tpm.CreateEk(TpmKeyAlgorithm.EccP256);
        }

        // Swap the AK's private key for the EK's: the JSON is valid but the key no longer matches its public area.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(StateFile))!;
        json["keys"]!["ak-ecc"]!["pkcs8"] = json["keys"]!["ek-ecc"]!["pkcs8"]!.GetValue<string>();
        File.WriteAllText(StateFile, json.ToJsonString());

        using var reopened = SoftwareTpm.Open(StateFile);
        var ak = reopened.CreateAk(TpmKeyAlgorithm.EccP256);
        var e = Assert.Throws<InvalidDataException>(() => reopened.Quote(ak.Handle, [], PcrSelection.Single(TpmAlgorithmId.Sha256, [0])));
        Assert.Contains("ak-ecc", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConcurrentCalls_DoNotCorruptState()
    {
        using var tpm = SoftwareTpm.Open(StateFile);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        var selection = PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 24));
        var digest = new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData("x"u8));
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            switch (i % 4)
            {
                case 0:
                    tpm.ExtendPcr(i % 24, [digest]);
                    break;
                case 1:
                    var q = tpm.Quote(ak.Handle, BitConverter.GetBytes(i), selection);
                    Assert.True(SoftwareTpmTestKit.VerifySignature(ak.Public, q.Attest, q.Signature));
                    break;
                case 2:
                    tpm.NvDefineSpace(0x01600000 + (uint)i, 4, TpmNvAttributes.AuthRead | TpmNvAttributes.AuthWrite);
                    tpm.NvWrite(0x01600000 + (uint)i, BitConverter.GetBytes(i));
                    break;
                default:
                    tpm.FlushContext(tpm.CreateEk(TpmKeyAlgorithm.EccP256).Handle);
                    break;
            }
        });

        // 50 extends of the same digest spread over the PCRs: replaying them gives the same values.
        var expected = new byte[24][];
        for (var p = 0; p < 24; p++)
        {
            expected[p] = new byte[32];
        }

        for (var i = 0; i < 200; i += 4)
        {
            expected[i % 24] = SHA256.HashData([.. expected[i % 24], .. digest.Digest]);
        }

        var values = tpm.ReadPcrs(selection);
        for (var p = 0; p < 24; p++)
        {
            Assert.Equal(expected[p], values.Get(TpmAlgorithmId.Sha256, p));
        }

        using var reopened = SoftwareTpm.Open(StateFile);
        Assert.Equal(BitConverter.GetBytes(2), reopened.NvRead(0x01600002));
        Assert.Equal(BitConverter.GetBytes(198), reopened.NvRead(0x01600000 + 198));
    }

    [Fact]
    public void Open_InMissingDirectory_ManufacturesANewTpm()
    {
        var path = Path.Combine(_dir, "hosts", "42", "tpm.json");
        using (var tpm = SoftwareTpm.Open(path))
        {
            Assert.Equal(0u, tpm.ClockInfo.RestartCount);
        }

        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Disposed_Throws()
    {
        var tpm = SoftwareTpm.CreateInMemory();
        tpm.Dispose();
        tpm.Dispose();
        Assert.Throws<ObjectDisposedException>(() => tpm.GetInfo());
    }
}
