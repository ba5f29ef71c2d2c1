using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using TrustPool.Testing;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Transport;

namespace TrustPool.Tpm.Tests.Client;

/// <summary>TpmClient against a real swtpm, checked against tpm2-tools 5.x and System.Security.Cryptography.</summary>
[Collection(SwtpmCollection.Name)]
[Trait("Category", "Integration")]
public sealed partial class TpmClientSwtpmTests : IClassFixture<SwtpmFixture>, IDisposable
{
    private readonly SwtpmFixture _fx;
    private readonly DirectoryInfo _dir = TestTemp.CreateDirectory("trustpool-client-");

    public TpmClientSwtpmTests(SwtpmFixture fixture) => _fx = fixture;

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    [SkippableFact]
    public void GetInfo_Swtpm_ReportsIbmAndSha1Sha256Banks()
    {
        using var tpm = _fx.Connect();
        tpm.Startup();
        var info = tpm.GetInfo();
        Assert.True(tpm.IsSimulator);
        Assert.Equal(0x49424D00u, info.ManufacturerId);
        Assert.Equal("IBM", info.Manufacturer);
        Assert.StartsWith("SW", info.VendorString, StringComparison.Ordinal);
        Assert.NotEqual(0ul, info.FirmwareVersion);
        Assert.Equal([TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256], info.PcrBanks.Order());
    }

    [SkippableFact]
    public void ReadPcrs_All24OfTwoBanks_EqualsTpm2PcrRead()
    {
        _fx.Tool("tpm2_pcrextend", null, "0:sha1=" + new string('1', 40) + ",sha256=" + new string('2', 64));
        _fx.Tool("tpm2_pcrextend", null, "7:sha256=" + new string('3', 64));
        _fx.Tool("tpm2_pcrextend", null, "16:sha1=" + new string('4', 40));
        using var tpm = _fx.Connect();
        var selection = PcrSelection.Parse("sha1:all+sha256:all");

        var ours = tpm.ReadPcrs(selection);
        var theirs = ParsePcrRead(_fx.Tool("tpm2_pcrread", null, "sha1:all+sha256:all"));

        Assert.Equal(48, theirs.Count);
        Assert.Equal(48, ours.All().Count());
        foreach (var ((bank, index), value) in theirs)
        {
            Assert.Equal(Convert.ToHexString(value), Convert.ToHexString(ours.Get(bank, index)));
        }

        Assert.NotEqual(new byte[32], ours.Get(TpmAlgorithmId.Sha256, 7));
    }

    [SkippableFact]
    public void ExtendPcr_BothBanks_MatchesSoftwareExtendAndTpm2PcrRead()
    {
        using var tpm = _fx.Connect();
        const int index = 23;
        var selection = PcrSelection.Parse("sha1:23+sha256:23");
        var before = tpm.ReadPcrs(selection);
        var d1 = SHA1.HashData("trustpool sha1"u8);
        var d256 = SHA256.HashData("trustpool sha256"u8);

        tpm.ExtendPcr(index, [new TpmtHa(TpmAlgorithmId.Sha1, d1), new TpmtHa(TpmAlgorithmId.Sha256, d256)]);

        var expected1 = SHA1.HashData([.. before.Get(TpmAlgorithmId.Sha1, index), .. d1]);
        var expected256 = SHA256.HashData([.. before.Get(TpmAlgorithmId.Sha256, index), .. d256]);
        var ours = tpm.ReadPcrs(selection);
        var theirs = ParsePcrRead(_fx.Tool("tpm2_pcrread", null, "sha1:23+sha256:23"));
        Assert.Equal(expected1, ours.Get(TpmAlgorithmId.Sha1, index));
        Assert.Equal(expected256, ours.Get(TpmAlgorithmId.Sha256, index));
        Assert.Equal(expected1, theirs[(TpmAlgorithmId.Sha1, index)]);
        Assert.Equal(expected256, theirs[(TpmAlgorithmId.Sha256, index)]);
    }

    [SkippableFact]
    public void NvRead_EkCertificateFromSwtpmSetup_IsX509OfOurEk()
    {
        using var tpm = _fx.Connect();
        var nvPublic = tpm.NvReadPublic(TpmHandle.EkCertificateRsaNvIndex);
        Assert.True(nvPublic.Attributes.HasFlag(TpmNvAttributes.Written));

        var der = tpm.NvRead(TpmHandle.EkCertificateRsaNvIndex);
        Assert.Equal(nvPublic.DataSize, der.Length);
        using var cert = X509CertificateLoader.LoadCertificate(der);
        using var certKey = cert.GetRSAPublicKey();
        Assert.NotNull(certKey);

        var ek = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048);
        try
        {
            Assert.Equal(certKey.ExportParameters(false).Modulus, ek.Public.Rsa!.Modulus);
        }
        finally
        {
            tpm.FlushContext(ek.Handle);
        }
    }

    [SkippableFact]
    public void NvRead_EkCertificate_ChainsToSwtpmLocalCa()
    {
        const string ca = "/var/lib/swtpm-localca";
        var issuerPath = Path.Combine(ca, "issuercert.pem");
        var rootPath = Path.Combine(ca, "swtpm-localca-rootca-cert.pem");
        using var tpm = _fx.Connect();
        using var cert = X509CertificateLoader.LoadCertificate(tpm.NvRead(TpmHandle.EkCertificateRsaNvIndex));
        Integration.SkipOrFailUnless(File.Exists(issuerPath) && File.Exists(rootPath), $"swtpm_setup's local CA is not in {ca}");

        using var issuer = X509CertificateLoader.LoadCertificateFromFile(issuerPath);
        using var root = X509CertificateLoader.LoadCertificateFromFile(rootPath);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.ExtraStore.Add(issuer);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var ok = chain.Build(cert);
        Assert.True(ok, string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation}")));
        Assert.Equal(3, chain.ChainElements.Count);
    }

    [SkippableFact]
    public void NvRead_EccP384EkCertificateOfSwtpm_ParsesAsX509()
    {
        // swtpm_setup also writes an ECC NIST P-384 EK certificate at 0x01C00016 (TCG EK Credential Profile 2.3, 2.2.1.5.2).
        using var tpm = _fx.Connect();
        using var cert = X509CertificateLoader.LoadCertificate(tpm.NvRead(0x01C00016));
        // An EK decrypts (key agreement), it never signs: .NET hands out its key as ECDH, not ECDSA.
        using var key = cert.GetECDiffieHellmanPublicKey();
        Assert.NotNull(key);
        Assert.Equal(384, key.KeySize);
    }

    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.Rsa2048, "rsa")]
    [InlineData(TpmKeyAlgorithm.EccP256, "ecc")]
    public void CreateEk_SameTemplateAsTpm2CreateEk_SamePublicArea(TpmKeyAlgorithm algorithm, string toolAlgorithm)
    {
        using var tpm = _fx.Connect();
        var ek = tpm.CreateEk(algorithm);
        try
        {
            Assert.Equal(TpmTemplates.EkAttributes, ek.Public.ObjectAttributes);
            Assert.Equal(ek.Public.Bytes, tpm.ReadPublic(ek.Handle).Bytes);
        }
        finally
        {
            tpm.FlushContext(ek.Handle);
        }

        _fx.Tool("tpm2_createek", _dir.FullName, "-G", toolAlgorithm, "-c", "ek.ctx", "-u", "ek.pub");
        _fx.FlushTools();
        var theirs = TpmtPublic.ParseTpm2b(File.ReadAllBytes(PathOf("ek.pub")));
        Assert.Equal(Convert.ToHexString(theirs.Bytes), Convert.ToHexString(ek.Public.Bytes));
        Assert.Equal(theirs.Name, ek.Name);
    }

    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.Rsa2048, "rsa", "rsassa")]
    [InlineData(TpmKeyAlgorithm.EccP256, "ecc", "ecdsa")]
    public void CreateAk_AttributesAsTpm2CreateAk_RestrictedSigningKey(TpmKeyAlgorithm algorithm, string toolAlgorithm, string scheme)
    {
        _fx.Tool("tpm2_createek", _dir.FullName, "-G", "rsa", "-c", "ek.ctx", "-u", "ek.pub");
        _fx.Tool("tpm2_createak", _dir.FullName, "-C", "ek.ctx", "-c", "ak.ctx", "-G", toolAlgorithm, "-g", "sha256", "-s", scheme,
            "-u", "ak.pub", "-n", "ak.name");
        _fx.FlushTools();
        var theirs = TpmtPublic.ParseTpm2b(File.ReadAllBytes(PathOf("ak.pub")));

        using var tpm = _fx.Connect();
        var ak = tpm.CreateAk(algorithm);
        try
        {
            Assert.Equal(0x00050072u, (uint)ak.Public.ObjectAttributes);
            Assert.Equal((uint)theirs.ObjectAttributes, (uint)ak.Public.ObjectAttributes);
            Assert.Equal(theirs.Type, ak.Public.Type);
            Assert.Equal(theirs.Scheme, ak.Public.Scheme);
            var read = tpm.ReadPublic(ak.Handle);
            Assert.Equal(ak.Public.Bytes, read.Bytes);
            Assert.Equal(ak.Name, read.Name);
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
        }
    }

    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.Rsa2048)]
    [InlineData(TpmKeyAlgorithm.EccP256)]
    public void Quote_OurAk_SignatureVerifiesAndPcrDigestMatches(TpmKeyAlgorithm algorithm)
    {
        using var tpm = _fx.Connect();
        var selection = PcrSelection.Parse("sha256:0,1,2,3,4,5,6,7,16,23+sha1:0,7");
        var nonce = RandomNumberGenerator.GetBytes(32);
        var ak = tpm.CreateAk(algorithm);
        TpmAttestation quote;
        PcrValues pcrs;
        try
        {
            quote = tpm.Quote(ak.Handle, nonce, selection);
            pcrs = tpm.ReadPcrs(selection);
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
        }

        var attest = TpmsAttest.Parse(quote.Attest);
        Assert.Equal(TpmLimits.GeneratedValue, attest.Magic);
        Assert.Equal(TpmStructureTag.AttestQuote, attest.Type);
        Assert.Equal(nonce, attest.ExtraData);
        var info = Assert.IsType<QuoteInfo>(attest.Attested);
        Assert.Equal(selection, info.PcrSelect);
        using var concat = new MemoryStream();
        foreach (var bank in selection)
        {
            foreach (var i in bank.Indices)
            {
                concat.Write(pcrs.Get(bank.Hash, i));
            }
        }

        Assert.Equal(SHA256.HashData(concat.ToArray()), info.PcrDigest);
        Assert.True(VerifySignature(ak.Public, quote.Attest, TpmtSignature.Parse(quote.Signature)), "quote signature does not verify");
        var tampered = (byte[])quote.Attest.Clone();
        tampered[^1] ^= 1;
        Assert.False(VerifySignature(ak.Public, tampered, TpmtSignature.Parse(quote.Signature)));

        // tpm2_checkquote (without a PCR file: signature, nonce) accepts our quote too.
        File.WriteAllBytes(PathOf("ak.pub"), ak.Public.ToTpm2b());
        File.WriteAllBytes(PathOf("quote.msg"), quote.Attest);
        File.WriteAllBytes(PathOf("quote.sig"), quote.Signature);
        _fx.Tool("tpm2_checkquote", _dir.FullName, "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig", "-g", "sha256",
            "-q", Convert.ToHexString(nonce).ToLowerInvariant());
    }

    /// <summary>The check a verifier does, kept local: the key's own scheme over the exact TPMS_ATTEST bytes.</summary>
    private static bool VerifySignature(TpmtPublic key, byte[] message, TpmtSignature signature)
    {
        var hash = TpmHash.ToHashAlgorithmName(signature.HashAlg);
        if (key.Rsa is { } rsaKey)
        {
            var exponent = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(exponent, rsaKey.EffectiveExponent);
            using var rsa = RSA.Create(new RSAParameters { Modulus = rsaKey.Modulus, Exponent = exponent.AsSpan().TrimStart((byte)0).ToArray() });
            var padding = signature.SigAlg == TpmAlgorithmId.RsaPss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
            return rsa.VerifyData(message, signature.RsaSignature, hash, padding);
        }

        var ecc = key.Ecc!;
        using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = ecc.X, Y = ecc.Y } });
        var size = ecc.X.Length;
        var rs = new byte[2 * size];
        signature.R.CopyTo(rs.AsSpan(size - signature.R.Length));
        signature.S.CopyTo(rs.AsSpan(2 * size - signature.S.Length));
        return ecdsa.VerifyData(message, rs, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    [SkippableTheory]
    [InlineData(TpmKeyAlgorithm.Rsa2048, TpmKeyAlgorithm.EccP256)]
    [InlineData(TpmKeyAlgorithm.EccP256, TpmKeyAlgorithm.Rsa2048)]
    public void ActivateCredential_Tpm2MakeCredentialForOurAk_ReturnsSecret(TpmKeyAlgorithm ekAlgorithm, TpmKeyAlgorithm akAlgorithm)
    {
        using var tpm = _fx.Connect();
        var ek = tpm.CreateEk(ekAlgorithm);
        var ak = tpm.CreateAk(akAlgorithm);
        try
        {
            var secret = RandomNumberGenerator.GetBytes(32);
            var (blob, encryptedSecret) = MakeCredential(ek.Public, ak.Name, secret);

            Assert.Equal(secret, tpm.ActivateCredential(ak.Handle, ek.Handle, blob, encryptedSecret));

            // The same EK, a credential bound to another object's name: the TPM's integrity check fails.
            var otherName = (byte[])ak.Name.Clone();
            otherName[^1] ^= 0x01;
            var (badBlob, badSecret) = MakeCredential(ek.Public, otherName, secret);
            var e = Assert.Throws<TpmException>(() => tpm.ActivateCredential(ak.Handle, ek.Handle, badBlob, badSecret));
            Assert.Equal(TpmCommandCode.ActivateCredential, e.Command);
            Assert.Equal("TPM_RC_INTEGRITY", e.ResponseCode.Name);
            Assert.Equal(1, e.ResponseCode.Parameter);
            Assert.Contains("TPM_RC_INTEGRITY (0x1df): parameter 1: integrity check failed", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
            tpm.FlushContext(ek.Handle);
        }

        // Neither the successful nor the failed activation left a policy session loaded.
        Assert.DoesNotContain("0x3", _fx.Tool("tpm2_getcap", null, "handles-loaded-session"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ActivateCredential_MadeForAnotherEk_Fails()
    {
        using var tpm = _fx.Connect();
        // Another RSA EK of the same TPM: the L-1 template with a different unique field derives a different key.
        var template = TpmTemplates.Ek(TpmKeyAlgorithm.Rsa2048, rsaModulus: Enumerable.Repeat((byte)0x5A, 256).ToArray());
        var otherEk = tpm.CreatePrimary(TpmHandle.Endorsement, template);
        tpm.FlushContext(otherEk.Handle);
        var ek = tpm.CreateEk(TpmKeyAlgorithm.Rsa2048);
        var ak = tpm.CreateAk(TpmKeyAlgorithm.Rsa2048);
        try
        {
            Assert.NotEqual(ek.Public.Rsa!.Modulus, otherEk.Public.Rsa!.Modulus);
            var (blob, encryptedSecret) = MakeCredential(otherEk.Public, ak.Name, RandomNumberGenerator.GetBytes(32));
            var e = Assert.Throws<TpmException>(() => tpm.ActivateCredential(ak.Handle, ek.Handle, blob, encryptedSecret));
            // The seed does not OAEP-decrypt under this EK. Part 3 (12.5) names TPM_RC_VALUE for a secret that does not
            // decrypt; libtpms 0.9.2 (Debian 12) answers TPM_RC_FAILURE although it is not in failure mode (the PCR
            // read below still works). Both are refusals.
            Assert.Contains(e.ResponseCode.BaseCode, new uint[] { 0x084, 0x101 });
            Assert.Single(tpm.ReadPcrs(PcrSelection.Parse("sha256:0")).All());
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
            tpm.FlushContext(ek.Handle);
        }

        Assert.DoesNotContain("0x3", _fx.Tool("tpm2_getcap", null, "handles-loaded-session"), StringComparison.Ordinal);
    }

    /// <summary>
    /// tpm2_makecredential without a TPM. Its output file (tools/tpm2_makecredential.c write_cred_and_secret):
    /// a header of two big-endian u32 (magic 0xBADCC0DE, version 1), TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET.
    /// </summary>
    private (byte[] Blob, byte[] Secret) MakeCredential(TpmtPublic ek, byte[] name, byte[] secret)
    {
        File.WriteAllBytes(PathOf("ek.pub"), ek.ToTpm2b());
        File.WriteAllBytes(PathOf("secret.bin"), secret);
        File.Delete(PathOf("cred.out"));
        _fx.Tool("tpm2_makecredential", _dir.FullName, "-T", "none", "-u", "ek.pub", "-s", "secret.bin",
            "-n", Convert.ToHexString(name).ToLowerInvariant(), "-o", "cred.out");
        var bytes = File.ReadAllBytes(PathOf("cred.out"));
        var r = new global::TrustPool.Tpm.Wire.TpmReader(bytes);
        Assert.Equal(0xBADCC0DEu, r.ReadUInt32("magic"));
        Assert.Equal(1u, r.ReadUInt32("version"));
        var blob = r.ReadSizedBytes("TPM2B_ID_OBJECT", TpmLimits.MaxIdObjectSize).ToArray();
        var encrypted = r.ReadSizedBytes("TPM2B_ENCRYPTED_SECRET", TpmLimits.MaxEncryptedSecretSize).ToArray();
        r.ThrowIfNotEmpty("cred.out");
        return (blob, encrypted);
    }

    [SkippableFact]
    public void Nv_DefineWriteReadCertifyUndefine_RoundTrip()
    {
        const uint index = 0x01500020;
        using var tpm = _fx.Connect();
        var data = new byte[1500]; // larger than TPM_PT_NV_BUFFER_MAX (1024 on libtpms): chunked both ways
        new Random(42).NextBytes(data);
        tpm.NvDefineSpace(index, (ushort)data.Length, TpmNvAttributes.AuthWrite | TpmNvAttributes.AuthRead | TpmNvAttributes.NoDA);
        try
        {
            tpm.NvWrite(index, data);
            Assert.Equal(data, tpm.NvRead(index));
            var pub = tpm.NvReadPublic(index);
            Assert.True(pub.Attributes.HasFlag(TpmNvAttributes.Written));
            Assert.Equal((ushort)data.Length, pub.DataSize);

            // tpm2-tools reads the same bytes.
            _fx.Tool("tpm2_nvread", _dir.FullName, "0x01500020", "-C", "0x01500020", "-s", "32", "--offset", "100", "-o", "nv.bin");
            Assert.Equal(data.AsSpan(100, 32).ToArray(), File.ReadAllBytes(PathOf("nv.bin")));

            var nonce = RandomNumberGenerator.GetBytes(16);
            var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
            try
            {
                var cert = tpm.NvCertify(ak.Handle, index, nonce, 32, 8);
                var attest = TpmsAttest.Parse(cert.Attest);
                Assert.Equal(TpmStructureTag.AttestNv, attest.Type);
                Assert.Equal(nonce, attest.ExtraData);
                var nv = Assert.IsType<NvCertifyInfo>(attest.Attested);
                Assert.Equal(pub.Name, nv.IndexName);
                Assert.Equal(8, nv.Offset);
                Assert.Equal(data.AsSpan(8, 32).ToArray(), nv.NvContents);
                Assert.True(VerifySignature(ak.Public, cert.Attest, TpmtSignature.Parse(cert.Signature)));
            }
            finally
            {
                tpm.FlushContext(ak.Handle);
            }
        }
        finally
        {
            tpm.NvUndefineSpace(index);
        }

        var e = Assert.Throws<TpmException>(() => tpm.NvReadPublic(index));
        Assert.Equal("TPM_RC_HANDLE", e.ResponseCode.Name);
        Assert.Equal(1, e.ResponseCode.Handle);
    }

    [SkippableFact]
    public void EvictControl_PersistThenEvict_KeyLivesOnlyWhilePersistent()
    {
        var persistent = new TpmHandle(0x81010042);
        using var tpm = _fx.Connect();
        var ak = tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        try
        {
            tpm.MakePersistent(ak.Handle, persistent);
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
        }

        Assert.Equal(ak.Public.Bytes, tpm.ReadPublic(persistent).Bytes);
        Assert.Contains("0x81010042", _fx.Tool("tpm2_getcap", null, "handles-persistent"), StringComparison.OrdinalIgnoreCase);
        tpm.EvictPersistent(persistent);
        var e = Assert.Throws<TpmException>(() => tpm.ReadPublic(persistent));
        Assert.Equal("TPM_RC_HANDLE", e.ResponseCode.Name);
        Assert.Equal(1, e.ResponseCode.Handle);
    }

    [SkippableFact]
    public void FlushContext_UnknownHandle_DecodedFormat1ParameterError()
    {
        using var tpm = _fx.Connect();
        var e = Assert.Throws<TpmException>(() => tpm.FlushContext(new TpmHandle(0x80000002)));
        Assert.Equal(TpmCommandCode.FlushContext, e.Command);
        Assert.Equal(TpmResponseCodeFormat.Format1, e.ResponseCode.Format);
        Assert.Equal("TPM_RC_HANDLE", e.ResponseCode.Name);
        Assert.Equal(1, e.ResponseCode.Parameter);
        Assert.Equal("TPM2_FlushContext failed: TPM_RC_HANDLE (0x1cb): parameter 1: the handle is not correct for the use", e.Message);
    }

    [SkippableFact]
    public void ReadPcrs_UnknownBank_DecodedHashError()
    {
        using var tpm = _fx.Connect();
        var e = Assert.Throws<TpmException>(() => tpm.ReadPcrs(PcrSelection.Single((TpmAlgorithmId)0x0099, [0])));
        Assert.Equal(TpmCommandCode.PcrRead, e.Command);
        Assert.Equal("TPM_RC_HASH", e.ResponseCode.Name);
        Assert.Equal(1, e.ResponseCode.Parameter);
    }

    [SkippableFact]
    public void ReadPcrs_UnallocatedBank_ClearErrorNotHang()
    {
        using var tpm = _fx.Connect();
        var e = Assert.Throws<InvalidOperationException>(() => tpm.ReadPcrs(PcrSelection.Parse("sha384:0")));
        Assert.Contains("sha384:0", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ReadPublic_TransientNotLoaded_DecodedWarning()
    {
        using var tpm = _fx.Connect();
        var e = Assert.Throws<TpmException>(() => tpm.ReadPublic(new TpmHandle(0x80000002)));
        Assert.Equal("TPM_RC_REFERENCE_H0", e.ResponseCode.Name);
        Assert.True(e.ResponseCode.IsWarning);
    }

    [SkippableFact]
    public void Startup_OnRunningTpm_IsNotAnError_AndControlInitResetsPcrs()
    {
        using var tpm = _fx.Connect();
        tpm.Startup();
        tpm.ExtendPcr(16, [new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData("x"u8))]);
        Assert.NotEqual(new byte[32], tpm.ReadPcrs(PcrSelection.Parse("sha256:16")).Get(TpmAlgorithmId.Sha256, 16));

        new SwtpmControl(_fx.Swtpm.Host, _fx.Swtpm.Port + 1).Init();
        tpm.Startup();

        Assert.Equal(new byte[32], tpm.ReadPcrs(PcrSelection.Parse("sha256:16")).Get(TpmAlgorithmId.Sha256, 16));
        Assert.Equal("IBM", tpm.GetInfo().Manufacturer);
    }

    [SkippableFact]
    public void HeldConnection_ManyCommands_OneConnectionServesThemAll()
    {
        using var tpm = new TpmClient(new SwtpmTcpTransport(_fx.Swtpm.Host, _fx.Swtpm.Port));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(24, tpm.ReadPcrs(PcrSelection.Parse("sha256:all")).All().Count());
        }
    }

    /// <summary>tpm2_pcrread's YAML: "  sha256:" then "    7 : 0xABCD...".</summary>
    private static Dictionary<(TpmAlgorithmId, int), byte[]> ParsePcrRead(string output)
    {
        var result = new Dictionary<(TpmAlgorithmId, int), byte[]>();
        var bank = TpmAlgorithmId.Error;
        foreach (var line in output.Split('\n'))
        {
            var b = BankLine().Match(line);
            if (b.Success)
            {
                Assert.True(TpmHash.TryParseName(b.Groups[1].Value, out bank));
                continue;
            }

            var v = ValueLine().Match(line);
            if (v.Success)
            {
                result[(bank, int.Parse(v.Groups[1].Value, CultureInfo.InvariantCulture))] = Convert.FromHexString(v.Groups[2].Value);
            }
        }

        return result;
    }

    [GeneratedRegex(@"^\s{2}(sha\d+):\s*$")]
    private static partial Regex BankLine();

    [GeneratedRegex(@"^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$")]
    private static partial Regex ValueLine();
}
