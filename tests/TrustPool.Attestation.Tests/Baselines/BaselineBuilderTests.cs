using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Verification;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Tests.Baselines;

public class BaselineBuilderTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<string, string> s_tags = new() { ["country"] = "DE" };

    [Fact]
    public void FromEvidence_UnverifiedEvidence_ThrowsInvalidOperation()
    {
        using var host = new SimulatedHost();
        var bad = EvidenceVerifier.Verify(host.Attest().Input with { Nonce = new byte[32] });

        Assert.Throws<InvalidOperationException>(() => BaselineBuilder.FromEvidence("p", BaselineKind.Platform, bad, "host-a", s_tags, null, s_now));
    }

    [Fact]
    public void FromEvidence_Platform_QuotedPcr0To7WithReferenceLogAndFacts()
    {
        using var host = new SimulatedHost();
        var evidence = host.Verified();

        var b = BaselineBuilder.FromEvidence("p", BaselineKind.Platform, evidence, "host-a", s_tags, BaselineTemplate.UefiMeasuredBoot, s_now);

        Assert.Equal(Enumerable.Range(0, 8), b.Pcrs.Select(p => p.Index));
        Assert.All(b.Pcrs, p => Assert.Equal(Convert.ToHexStringLower(evidence.Pcrs!.Get(TpmAlgorithmId.Sha256, p.Index)), p.Value));
        Assert.Equal(host.UefiLog, b.ReferenceUefiLog);
        Assert.Equal("true", b.Facts["secureBoot"]);
        Assert.Equal(("host-a", s_now, 1), (b.FromHost, b.Created, b.Version));
    }

    [Fact]
    public void FromEvidence_OsWithTxtTemplateButUefiQuote_ThrowsBecauseNothingIsQuoted()
    {
        using var host = new SimulatedHost();

        Assert.Throws<InvalidOperationException>(() =>
            BaselineBuilder.FromEvidence("o", BaselineKind.Os, host.Verified(), "host-a", s_tags, BaselineTemplate.TxtTboot, s_now));
    }

    [Fact]
    public void FromEvidence_Software_AllowlistOfEveryMeasuredFile()
    {
        using var host = new SimulatedHost();
        host.RunFile("/usr/bin/bash", "bash 5.2");
        host.RunFile("/usr/bin/bash", "bash 5.3");

        var b = BaselineBuilder.FromEvidence("sw", BaselineKind.Software, host.Verified(), "host-a", s_tags, null, s_now);

        Assert.Equal(2, b.ImaAllowlist!["/usr/bin/bash"].Count);
        Assert.Empty(b.Pcrs);
    }

    [Fact]
    public void FromEvidence_AssetTag_HostTagsAndPcr23WhenQuoted()
    {
        using var host = new SimulatedHost();
        var evidence = host.Verified(PcrSelection.Single(TpmAlgorithmId.Sha256, [0, 23]));

        var b = BaselineBuilder.FromEvidence("t", BaselineKind.AssetTag, evidence, "host-a", s_tags, null, s_now);

        Assert.Equal("DE", b.Tags!["country"]);
        Assert.Equal(23, Assert.Single(b.Pcrs).Index);
    }

    [Theory]
    [InlineData("uefi", new[] { 0, 1, 2, 3, 4, 5, 6, 7 }, new[] { 8, 9 })]
    [InlineData("TXT", new[] { 17 }, new[] { 18, 19 })]
    public void Find_KnownTemplate_PlatformAndOsPcrs(string name, int[] platform, int[] os)
    {
        var t = BaselineTemplate.Find(name)!;

        Assert.Equal(platform, t.For(BaselineKind.Platform));
        Assert.Equal(os, t.For(BaselineKind.Os));
        Assert.Null(BaselineTemplate.Find("bios"));
    }
}
