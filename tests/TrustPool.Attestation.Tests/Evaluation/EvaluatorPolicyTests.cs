using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Pools;
using TrustPool.Attestation.Verification;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Tests.Evaluation;

/// <summary>
/// Issue 13, hole 4 (defence in depth behind the API's refusal): only a pool with a platform, os or hostUnique rule that
/// passed on verified PCRs makes a host trusted; no rule of that kind can pass vacuously.
/// </summary>
public class EvaluatorPolicyTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly SimulatedBoot s_golden = new();
    private static readonly SimulatedBoot s_tampered = s_golden with { FirmwareVolume = "simulated firmware volume, with an implant"u8.ToArray() };
    private static readonly Dictionary<string, string> s_de = new() { ["country"] = "DE" };

    private static HostContext Host(IReadOnlyDictionary<string, string>? tags = null) => new("host-b", "tofu", tags ?? s_de);

    private static Baseline Make(string name, BaselineKind kind, VerifiedEvidence reference) =>
        BaselineBuilder.FromEvidence(name, kind, reference, "host-a", s_de, BaselineTemplate.UefiMeasuredBoot, s_now);

    private static TrustReport Evaluate(VerifiedEvidence evidence, IReadOnlyList<Pool> pools, params Baseline[] baselines) =>
        Evaluator.Evaluate(Host(), evidence, pools, n => baselines.FirstOrDefault(b => b.Name == n), s_now, TimeSpan.FromMinutes(10));

    private static Pool TagsOnly() => PoolJson.ParseStored("""{"name":"de-any","require":{"tags":{"country":"DE"}}}""");

    [Fact]
    public void Evaluate_StoredTagsOnlyPoolTagsMatch_TamperedFirmwareHostUntrustedWithPoolRequiresNoMeasurement()
    {
        using var b = new SimulatedHost(s_tampered, "host-b");

        var report = Evaluate(b.Verified(), [TagsOnly()]);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Empty(report.TrustedPools);
        Assert.Equal("NoPoolMatched", Assert.Single(report.Faults).Code);
        var pool = Assert.Single(report.Pools);
        Assert.Equal(TrustLevel.Untrusted, pool.Trust);
        var tags = Assert.Single(pool.Rules, r => r.Rule == "tags");
        Assert.True(tags.Passed);
        Assert.Equal("asserted", tags.TagSource);
        var measurement = Assert.Single(pool.Rules, r => r.Rule == "measurement");
        Assert.False(measurement.Passed);
        Assert.Equal(("PoolRequiresNoMeasurement", "de-any"), (Assert.Single(measurement.Faults).Code, measurement.Faults[0].Detail));
    }

    [Fact]
    public void Evaluate_SoftwareOnlyPoolEveryFileAllowed_UntrustedWithPoolRequiresNoMeasurement()
    {
        using var a = new SimulatedHost(name: "host-a");
        a.RunFile("/usr/bin/bash", "bash 5.2");
        var software = Make("sw1", BaselineKind.Software, a.Verified());
        using var b = new SimulatedHost(s_tampered, "host-b");
        b.RunFile("/usr/bin/bash", "bash 5.2");

        var report = Evaluate(b.Verified(), [new Pool("sw", new PoolRequirement { Software = ["sw1"] })], software);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.True(report.Pools[0].Rules.Single(r => r.Rule == "software").Passed);
        Assert.Contains(report.Pools[0].Rules.SelectMany(r => r.Faults), f => f.Code == "PoolRequiresNoMeasurement");
    }

    [Fact]
    public void Evaluate_MeasuredPoolAndTagsOnlyPool_TrustedPoolsNamesOnlyTheMeasuredOne()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_golden, "host-b");
        var platform = Make("p1", BaselineKind.Platform, a.Verified());
        Pool[] pools = [TagsOnly(), new Pool("prod", new PoolRequirement { Platform = ["p1"], Tags = s_de }), new Pool("us", new PoolRequirement { Platform = ["p1"], Tags = new Dictionary<string, string> { ["country"] = "US" } })];

        var report = Evaluate(b.Verified(), pools, platform);

        Assert.Equal(TrustLevel.Trusted, report.Trust);
        Assert.Equal(["prod"], report.TrustedPools);
        Assert.Equal([TrustLevel.Untrusted, TrustLevel.Trusted, TrustLevel.Untrusted], report.Pools.Select(p => p.Trust));
        var json = TrustReportJson.Serialize(report);
        Assert.Contains("\"trustedPools\":[\"prod\"]", json, StringComparison.Ordinal);
        Assert.Equal(["prod"], TrustReportJson.Parse(json).TrustedPools);
    }

    [Fact]
    public void Evaluate_PlatformBaselineOfOnlyResettablePcrs_BaselineMeasuresNoBootUntrusted()
    {
        using var b = new SimulatedHost(s_tampered, "host-b");
        var evidence = b.Verified(PcrSelection.Single(TpmAlgorithmId.Sha256, [0, 1, 2, 3, 4, 5, 6, 7, 16, 23]));
        // PCR 16 and 23 as the host has them (reset values): a baseline of only these would match any host.
        var resettable = new Baseline
        {
            Name = "p23",
            Kind = BaselineKind.Platform,
            Pcrs = [.. new[] { 16, 23 }.Select(i => new ExpectedPcr("sha256", i, Convert.ToHexStringLower(evidence.Pcrs!.Get(TpmAlgorithmId.Sha256, i))))],
        };

        var report = Evaluate(evidence, [new Pool("p", new PoolRequirement { Platform = ["p23"], Tags = s_de })], resettable);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        var rule = report.Pools[0].Rules.Single(r => r.Rule == "platform");
        Assert.False(rule.Passed);
        Assert.Equal(("BaselineMeasuresNoBoot", "p23"), (Assert.Single(rule.Faults).Code, rule.Faults[0].Detail));
    }

    [Theory]
    [InlineData("empty", "BaselineEmpty")]
    [InlineData("bad-bank", "BaselineInvalid")]
    [InlineData("unquoted", "PcrNotQuoted")]
    public void Evaluate_OsBaselineThatComparesNothingVerified_NeverPasses(string which, string code)
    {
        using var b = new SimulatedHost(s_golden, "host-b");
        var evidence = b.Verified();
        var zero = new string('0', 64);
        ExpectedPcr[] pcrs = which switch
        {
            "empty" => [],
            "bad-bank" => [new ExpectedPcr("sha999", 8, zero)],
            _ => [new ExpectedPcr("sha384", 8, new string('0', 96))],
        };
        var os = new Baseline { Name = "o", Kind = BaselineKind.Os, Pcrs = pcrs };

        var report = Evaluate(evidence, [new Pool("p", new PoolRequirement { Os = ["o"] })], os);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Empty(report.TrustedPools);
        Assert.Equal(code, Assert.Single(report.Pools[0].Rules.Single(r => r.Rule == "os").Faults).Code);
    }

    [Fact]
    public void Evaluate_EvidenceNotVerified_NoTrustedPools()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        var platform = Make("p1", BaselineKind.Platform, a.Verified());
        var (input, _) = a.Attest();
        var bad = EvidenceVerifier.Verify(input with { Nonce = new byte[32] });

        var report = Evaluate(bad, [new Pool("prod", new PoolRequirement { Platform = ["p1"] })], platform);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Empty(report.TrustedPools);
    }
}
