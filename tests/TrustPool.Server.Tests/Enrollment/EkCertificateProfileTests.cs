using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Tests.EndToEnd;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.Enrollment;

/// <summary>
/// Issue 13, hole 7: TCG EK Credential Profile checks (<see cref="EkCertificateProfile"/>) on crafted certificates,
/// one rule broken at a time, and on real vendor and swtpm EK certificates (profile only: their CAs are not all here,
/// and the chain is <see cref="EkTrustAnchors"/>' business).
/// </summary>
public sealed class EkCertificateProfileTests : IDisposable
{
    private static readonly string[] s_dir = ["keylime", "derived", "tpm2_objects_test"];
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA _ekKey = RSA.Create(2048);
    private readonly TpmtPublic _ek;

    public EkCertificateProfileTests()
    {
        var p = _ekKey.ExportParameters(false);
        _ek = new TpmtPublic(TpmAlgorithmId.Rsa, TpmAlgorithmId.Sha256,
            TpmObjectAttributes.Restricted | TpmObjectAttributes.Decrypt | TpmObjectAttributes.FixedTpm | TpmObjectAttributes.FixedParent |
            TpmObjectAttributes.SensitiveDataOrigin | TpmObjectAttributes.AdminWithPolicy, new byte[32],
            new RsaPublicParameters(TpmSymmetricDefinition.Aes128Cfb, TpmScheme.Null, 2048, 0, p.Modulus!), null);
    }

    private byte[] Certificate(IEnumerable<X509Extension> extensions)
    {
        var request = new CertificateRequest("CN=Profile test EK", _ekKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        foreach (var e in extensions)
        {
            request.CertificateExtensions.Add(e);
        }

        using var cert = request.Create(new X500DistinguishedName("CN=Profile test CA"), X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3]);
        return cert.RawData;
    }

    /// <summary>The harness's conformant extensions with the one of <paramref name="oid"/> replaced (or dropped when null).</summary>
    private byte[] With(string oid, X509Extension? replacement, X509Extension? extra = null)
    {
        var list = ServiceHarness.EkCertificateExtensions().Where(e => e.Oid!.Value != oid).ToList();
        if (replacement is not null)
        {
            list.Add(replacement);
        }

        if (extra is not null)
        {
            list.Add(extra);
        }

        return Certificate(list);
    }

    [Fact]
    public void Check_HarnessCertificate_Conformant() =>
        Assert.Null(EkCertificateProfile.Check(Certificate(ServiceHarness.EkCertificateExtensions()), _ek));

    [Fact]
    public void Check_NoKeyUsage_Refused() =>
        Assert.Contains("no key usage", EkCertificateProfile.Check(With("2.5.29.15", null), _ek), StringComparison.Ordinal);

    [Fact]
    public void Check_DigitalSignatureOnly_LacksKeyEncipherment() =>
        Assert.Contains("lacks keyEncipherment", EkCertificateProfile.Check(With("2.5.29.15", new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true)), _ek),
            StringComparison.Ordinal);

    [Fact]
    public void Check_KeyCertSign_Refused() =>
        Assert.Contains("allows signing certificates",
            EkCertificateProfile.Check(With("2.5.29.15", new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, true)), _ek),
            StringComparison.Ordinal);

    [Fact]
    public void Check_KeyAgreementOnRsaEk_Refused() =>
        Assert.Contains("lacks keyEncipherment",
            EkCertificateProfile.Check(With("2.5.29.15", new X509KeyUsageExtension(X509KeyUsageFlags.KeyAgreement, true)), _ek), StringComparison.Ordinal);

    [Fact]
    public void Check_CaTrue_Refused() =>
        Assert.Contains("cA=TRUE", EkCertificateProfile.Check(With("2.5.29.19", new X509BasicConstraintsExtension(true, false, 0, true)), _ek), StringComparison.Ordinal);

    [Fact]
    public void Check_NoBasicConstraints_Accepted() => Assert.Null(EkCertificateProfile.Check(With("2.5.29.19", null), _ek));

    [Fact]
    public void Check_EkuWithoutEkPurpose_Refused()
    {
        // 2.23.133.8.3 is tcg-kp-AIKCertificate: an AK certificate from the same vendor CA is not an EK certificate.
        var why = EkCertificateProfile.Check(With("2.5.29.37", new X509EnhancedKeyUsageExtension([new Oid("2.23.133.8.3")], false)), _ek);
        Assert.Contains("does not contain tcg-kp-EKCertificate", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NoEku_Accepted() => Assert.Null(EkCertificateProfile.Check(With("2.5.29.37", null), _ek));

    [Fact]
    public void Check_UnknownCriticalExtension_Refused()
    {
        var why = EkCertificateProfile.Check(With("none", null, new X509Extension("1.3.6.1.4.1.55555.1.1", [0x05, 0x00], true)), _ek);
        Assert.Contains("unrecognised critical extension 1.3.6.1.4.1.55555.1.1", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnknownNonCriticalExtension_Accepted() =>
        Assert.Null(EkCertificateProfile.Check(With("none", null, new X509Extension("1.3.6.1.4.1.55555.1.1", [0x05, 0x00], false)), _ek));

    [Fact]
    public void Check_NameConstraintsCritical_Refused() =>
        Assert.Contains("2.5.29.30", EkCertificateProfile.Check(With("none", null, new X509Extension("2.5.29.30", [0x30, 0x00], true)), _ek), StringComparison.Ordinal);

    [Fact]
    public void Check_DuplicateExtension_Refused()
    {
        // CertificateRequest will not write an extension twice: write a second keyUsage under the placeholder OID
        // 2.5.29.99 (same encoded length) and patch the OID in the DER. The signature breaks; the profile does not look.
        var keyUsage = new X509KeyUsageExtension(X509KeyUsageFlags.DataEncipherment, false);
        var der = With("none", null, new X509Extension("2.5.29.99", keyUsage.RawData, false));
        byte[] placeholder = [0x06, 0x03, 0x55, 0x1D, 0x63];
        var at = der.AsSpan().IndexOf(placeholder);
        Assert.True(at > 0);
        der[at + 4] = 0x0F;
        Assert.Contains("2.5.29.15 twice", EkCertificateProfile.Check(der, _ek), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_KeyUsageThatDoesNotDecode_Refused()
    {
        var why = EkCertificateProfile.Check(With("2.5.29.15", new X509Extension("2.5.29.15", [0x04, 0x01, 0x00], true)), _ek);
        Assert.NotNull(why);
    }

    [Fact]
    public void Check_NotACertificate_Refused() =>
        Assert.Contains("does not parse", EkCertificateProfile.Check([0x30, 0x03, 0x02, 0x01, 0x00], _ek), StringComparison.Ordinal);

    [Fact]
    public void Validate_ProfileFailure_ReportedBeforeChain()
    {
        using var anchors = EkTrustAnchors.Load(null);
        var why = anchors.Validate(With("2.5.29.15", new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true)), _ek, DateTimeOffset.UtcNow);
        Assert.Contains("lacks keyEncipherment", why, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("infineon_ek_rsa_cert.der", "infineon_ek_rsa.tpm2b_public.bin")]
    [InlineData("infineon_ek_ecc_cert.der", "infineon_ek_ecc.tpm2b_public.bin")]
    public void Check_RealInfineonEkCertificates_Conformant(string cert, string ek)
    {
        var der = TestData.ReadBytes([.. s_dir, cert]);
        var pub = TpmtPublic.ParseTpm2b(TestData.ReadBytes([.. s_dir, ek]));
        Assert.Null(EkCertificateProfile.Check(der, pub));
        Assert.Null(KeyStrength.WeakEk(pub));

        // The chain part fails only for want of Infineon's CA, not because of the profile or the key.
        using var anchors = EkTrustAnchors.Load(null);
        Assert.Contains("no EK CA certificates are configured", anchors.Validate(der, pub, DateTimeOffset.UtcNow), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Check_RealAkCertificateChainingToEkRoot_NotAnEkCertificate()
    {
        // Google's AK certificate chains to the same root as GCE EK certificates; its key usage is not an EK's.
        var der = TestData.ReadBytes("go-tpm-tools", "derived", "gce-cos-85-nonce9009", "ak_cert.der");
        var ak = TpmtPublic.Parse(TestData.ReadBytes("go-tpm-tools", "derived", "gce-cos-85-nonce9009", "ak.tpmt_public.bin"));
        Assert.Contains("lacks keyEncipherment", EkCertificateProfile.Check(der, ak), StringComparison.Ordinal);
    }

    [SkippableFact]
    [Trait("Category", "Integration")]
    public void Check_SwtpmEkCertificate_Conformant()
    {
        using var swtpm = SwtpmInstance.Start();
        using var tpm = TrustPool.Tpm.TpmConnection.Open(swtpm.Backend);
        var der = tpm.NvRead(TrustPool.Tpm.Client.TpmHandle.EkCertificateRsaNvIndex);
        var ek = tpm.CreateEk(TrustPool.Tpm.Client.TpmKeyAlgorithm.Rsa2048);
        tpm.FlushContext(ek.Handle);
        Assert.Null(EkCertificateProfile.Check(der, ek.Public));
        Assert.Null(KeyStrength.WeakEk(ek.Public));
    }

    public void Dispose()
    {
        _caKey.Dispose();
        _ekKey.Dispose();
    }
}
