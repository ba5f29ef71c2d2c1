using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Tests.Quotes;

/// <summary>Quotes made by real TPMs (GCE vTPM, swtpm via keylime, GCP Windows) verify; single changes are rejected by name.</summary>
public class FixtureQuoteTests
{
    private static (AttestationKey Key, byte[] Attest, byte[] Sig, PcrValues Pcrs) Gce(string variant, string bank)
    {
        var dir = new[] { "go-tpm-tools", "derived", variant };
        var key = AttestationKey.FromPublic(TpmtPublic.Parse(Fixtures.Read([.. dir, "ak.tpmt_public.bin"])));
        TpmHash.TryParseName(bank, out var alg);
        return (key, Fixtures.Read([.. dir, $"quote_{bank}.tpms_attest.bin"]), Fixtures.Read([.. dir, $"quote_{bank}.tpmt_signature.bin"]),
            Fixtures.ReadPcrText(alg, [.. dir, $"quote_{bank}.pcrs.txt"]));
    }

    [SkippableTheory]
    [InlineData("gce-cos-85-nonce9009", "sha1", "9009")]
    [InlineData("gce-cos-85-nonce9009", "sha256", "9009")]
    [InlineData("gce-cos-85-nonce9009", "sha384", "9009")]
    [InlineData("gce-cos-85-no-nonce", "sha256", "")]
    public void Verify_GceQuotes_ValidWithClockInfo(string variant, string bank, string nonceHex)
    {
        var (key, attest, sig, pcrs) = Gce(variant, bank);
        var result = QuoteVerifier.Verify(key, attest, sig, pcrs, Convert.FromHexString(nonceHex));
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(10u, result.ClockInfo!.Value.ResetCount);
        Assert.Equal(24, result.VerifiedPcrs!.All().Count());
    }

    [SkippableFact]
    public void Verify_GceQuote_WrongNonce_NonceMismatch()
    {
        var (key, attest, sig, pcrs) = Gce("gce-cos-85-nonce9009", "sha256");
        var result = QuoteVerifier.Verify(key, attest, sig, pcrs, Convert.FromHexString("9008"));
        var fault = Assert.IsType<NonceMismatch>(result.Fault);
        Assert.Equal("9009", Convert.ToHexStringLower(fault.Actual));
    }

    [SkippableFact]
    public void Verify_GceQuote_OnePcrChanged_PcrDigestMismatch()
    {
        var (key, attest, sig, pcrs) = Gce("gce-cos-85-nonce9009", "sha256");
        var v = (byte[])pcrs.Get(TpmAlgorithmId.Sha256, 7).Clone();
        v[0] ^= 1;
        pcrs.Set(TpmAlgorithmId.Sha256, 7, v);
        Assert.IsType<PcrDigestMismatch>(QuoteVerifier.Verify(key, attest, sig, pcrs, Convert.FromHexString("9009")).Fault);
    }

    [SkippableFact]
    public void Verify_GceQuote_SelectionNotRequested_SelectionMismatch()
    {
        var (key, attest, sig, pcrs) = Gce("gce-cos-85-nonce9009", "sha256");
        var requested = PcrSelection.Parse("sha256:0-7");
        var fault = Assert.IsType<SelectionMismatch>(QuoteVerifier.Verify(key, attest, sig, pcrs, Convert.FromHexString("9009"), requested).Fault);
        Assert.Equal("sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23", fault.Quoted.ToString());
    }

    [SkippableFact]
    public void Verify_GceQuote_PcrMissing_PcrValueMissing()
    {
        var (key, attest, sig, _) = Gce("gce-cos-85-nonce9009", "sha256");
        var fault = Assert.IsType<PcrValueMissing>(QuoteVerifier.Verify(key, attest, sig, new PcrValues(), Convert.FromHexString("9009")).Fault);
        Assert.Equal(0, fault.Index);
    }

    [SkippableFact]
    public void Verify_GceQuote_OtherKey_SignatureInvalid()
    {
        var (_, attest, sig, pcrs) = Gce("gce-cos-85-nonce9009", "sha256");
        using var other = AttestationKey.FromPublic(TpmtPublic.Parse(Fixtures.Read("go-attestation", "derived", "windows_gcp_shielded_vm", "ak.tpmt_public.bin")));
        // The Windows AK signs RSASSA/SHA-1: its scheme differs from this SHA-256 signature.
        Assert.IsType<SignatureSchemeMismatch>(QuoteVerifier.Verify(other, attest, sig, pcrs, Convert.FromHexString("9009")).Fault);
        using var pem = AttestationKey.FromPem(other.ExportPem());
        Assert.IsType<SignatureInvalid>(QuoteVerifier.Verify(pem, attest, sig, pcrs, Convert.FromHexString("9009")).Fault);
    }

    [SkippableFact]
    public void Verify_KeylimeSwtpmQuote_ValidWithOldPcrFileAndPem()
    {
        var dir = new[] { "keylime", "derived", "tpm_util_test_checkquote" };
        using var key = AttestationKey.FromFileBytes(Fixtures.Read([.. dir, "aik.pub.pem"]));
        var (selection, pcrs) = Tpm2ToolsPcrFile.Read(Fixtures.Read([.. dir, "pcrs.tpm2-tools-pcrs-format.bin"]));
        Assert.Equal("sha256:16", selection.ToString());
        var nonce = System.Text.Encoding.ASCII.GetBytes(File.ReadAllText(Testing.TestData.Require([.. dir, "nonce.txt"])).Trim());
        var attest = Fixtures.Read([.. dir, "quote.tpms_attest.bin"]);
        var sig = Fixtures.Read([.. dir, "quote.tpmt_signature.bin"]);
        Assert.True(QuoteVerifier.Verify(key, attest, sig, pcrs, nonce).IsValid);

        // keylime's own negative cases: quote[5] flipped, nonce[0] changed, pcrblob[5] flipped.
        var badQuote = (byte[])attest.Clone();
        badQuote[5] ^= 0xFF;
        Assert.IsType<SignatureInvalid>(QuoteVerifier.Verify(key, badQuote, sig, pcrs, nonce).Fault);
        var badNonce = (byte[])nonce.Clone();
        badNonce[0] = (byte)'a';
        Assert.IsType<NonceMismatch>(QuoteVerifier.Verify(key, attest, sig, pcrs, badNonce).Fault);
        var blob = Fixtures.Read([.. dir, "pcrs.tpm2-tools-pcrs-format.bin"]);
        blob[5] ^= 0xFF;
        var e = Assert.Throws<TrustPool.Tpm.Wire.TpmFormatException>(() => Tpm2ToolsPcrFile.Read(blob));
        Assert.Equal("pcrs.selection.hash", e.Field);
    }

    [SkippableFact]
    public void Verify_WindowsGcpQuote_Sha1RsassaEmptyNonce_Valid()
    {
        var dir = new[] { "go-attestation", "derived", "windows_gcp_shielded_vm" };
        using var key = AttestationKey.FromPublic(TpmtPublic.Parse(Fixtures.Read([.. dir, "ak.tpmt_public.bin"])));
        var pcrs = Fixtures.ReadPcrText(TpmAlgorithmId.Sha1, [.. dir, "pcrs_sha1.txt"]);
        var result = QuoteVerifier.Verify(key, Fixtures.Read([.. dir, "quote.tpms_attest.bin"]), Fixtures.Read([.. dir, "quote.tpmt_signature.bin"]), pcrs, []);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(10257171UL, result.ClockInfo!.Value.Clock);
    }

    [SkippableFact]
    public void Verify_CertifyStructure_NotAQuote()
    {
        // A genuine, correctly signed TPMS_CERTIFY_INFO (the AK's creation certification) is not a quote.
        var dir = new[] { "go-attestation", "derived", "windows_gcp_shielded_vm" };
        using var key = AttestationKey.FromPublic(TpmtPublic.Parse(Fixtures.Read([.. dir, "ak.tpmt_public.bin"])));
        var result = QuoteVerifier.Verify(key, Fixtures.Read([.. dir, "ak_create_attestation.tpms_attest.bin"]),
            Fixtures.Read([.. dir, "ak_create_signature.tpmt_signature.bin"]), new PcrValues(), []);
        Assert.IsType<NotAQuote>(result.Fault);
    }
}
