using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Pools;
using TrustPool.Attestation.Verification;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Attestation.Tests.Evaluation;

public class EvaluatorTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyDictionary<string, string> s_noTags = new Dictionary<string, string>();
    private static readonly SimulatedBoot s_golden = new();
    private static readonly SimulatedBoot s_tampered = s_golden with { FirmwareVolume = "simulated firmware volume, with an implant"u8.ToArray() };

    private static HostContext Host(string name = "host-b", IReadOnlyDictionary<string, string>? tags = null) => new(name, "tofu", tags ?? s_noTags);

    private static Baseline Make(string name, BaselineKind kind, VerifiedEvidence reference, IReadOnlyDictionary<string, string>? tags = null) =>
        BaselineBuilder.FromEvidence(name, kind, reference, "host-a", tags ?? s_noTags, BaselineTemplate.UefiMeasuredBoot, s_now);

    private static Pool PlatformPool(params string[] platform) => new("pool", new PoolRequirement { Platform = platform });

    private static TrustReport Evaluate(HostContext host, VerifiedEvidence evidence, IReadOnlyList<Pool> pools, params Baseline[] baselines) =>
        Evaluator.Evaluate(host, evidence, pools, n => baselines.FirstOrDefault(b => b.Name == n), s_now, TimeSpan.FromMinutes(10));

    [Fact]
    public void Evaluate_HostMatchingPlatformAndOsBaselinesOfReference_Trusted()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_golden, "host-b");
        var platform = Make("p1", BaselineKind.Platform, a.Verified());
        var os = Make("os1", BaselineKind.Os, a.Verified());
        var pool = new Pool("prod", new PoolRequirement { Platform = ["p1"], Os = ["os1"] }) { Version = 3 };

        var report = Evaluate(Host(), b.Verified(), [pool], platform, os);

        Assert.Equal(TrustLevel.Trusted, report.Trust);
        Assert.Empty(report.Faults);
        var result = Assert.Single(report.Pools);
        Assert.Equal(("prod", 3, TrustLevel.Trusted), (result.Pool, result.PoolVersion, result.Trust));
        Assert.Equal(["platform", "os"], result.Rules.Select(r => r.Rule));
        Assert.All(result.Rules, r => Assert.True(r.Passed));
        Assert.Equal("p1", result.Rules[0].Baseline);
        Assert.Equal(10, report.Pcrs["sha256"].Count);
        Assert.Equal(s_now, report.ValidFrom);
        Assert.Equal(s_now.AddMinutes(10), report.ValidTo);
        Assert.Equal(32, report.Id.Length);
        Assert.Equal([new BaselineRef("os1", 1, "os"), new BaselineRef("p1", 1, "platform")], report.Baselines);
        Assert.NotNull(report.Nonce);
        Assert.NotNull(report.Clock);
    }

    [Fact]
    public void Evaluate_TamperedFirmware_UntrustedWithPcrMismatchOnPcr0NamingFirmwareBlobEvent()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_tampered, "host-b");
        var platform = Make("p1", BaselineKind.Platform, a.Verified());
        var evidence = b.Verified();

        var report = Evaluate(Host(), evidence, [PlatformPool("p1")], platform);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Equal("NoPoolMatched", Assert.Single(report.Faults).Code);
        var rule = Assert.Single(Assert.Single(report.Pools).Rules);
        Assert.False(rule.Passed);
        Assert.Equal("p1", rule.Baseline);
        var f = Assert.Single(rule.Faults);
        Assert.Equal("PcrMismatch", f.Code);
        Assert.Equal(("sha256", 0), (f.Bank, f.Index));
        Assert.Equal("EV_EFI_PLATFORM_FIRMWARE_BLOB", f.EventType);
        Assert.Equal(platform.Pcrs.Single(p => p.Index == 0).Value, f.Expected);
        Assert.Equal(Convert.ToHexStringLower(evidence.Pcrs!.Get(TpmAlgorithmId.Sha256, 0)), f.Actual);
        var ev = evidence.UefiLog!.Events.Single(e => e.Number == f.EventNumber);
        Assert.Equal(TcgEventType.EfiPlatformFirmwareBlob, ev.EventType);
        Assert.Equal($"PCR[0] sha256 expected {f.Expected![..8]}.. got {f.Actual![..8]}..; first differing event #{f.EventNumber} EV_EFI_PLATFORM_FIRMWARE_BLOB", f.Message);
    }

    [Fact]
    public void Evaluate_AnyOfTwoFirmwareChains_BothTrustedAndAThirdUntrustedAgainstFirstListed()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_tampered, "host-b");
        using var c = new SimulatedHost(s_golden with { FirmwareVersion = "SimFirmware 9.9" }, "host-c");
        var p1 = Make("p1", BaselineKind.Platform, a.Verified());
        var p2 = Make("p2", BaselineKind.Platform, b.Verified());
        var pool = PlatformPool("p1", "p2");

        var ra = Evaluate(Host("host-a"), a.Verified(), [pool], p1, p2);
        var rb = Evaluate(Host("host-b"), b.Verified(), [pool], p1, p2);
        var rc = Evaluate(Host("host-c"), c.Verified(), [pool], p1, p2);

        Assert.Equal(TrustLevel.Trusted, ra.Trust);
        Assert.Equal("p1", ra.Pools[0].Rules[0].Baseline);
        Assert.Equal(TrustLevel.Trusted, rb.Trust);
        Assert.Equal("p2", rb.Pools[0].Rules[0].Baseline);
        Assert.Equal(TrustLevel.Untrusted, rc.Trust);
        var rule = rc.Pools[0].Rules[0];
        Assert.Equal("p1", rule.Baseline);
        Assert.Equal("EV_S_CRTM_VERSION", Assert.Single(rule.Faults).EventType);
    }

    [Fact]
    public void Evaluate_EvidenceFault_UntrustedEveryPoolFailsEvidenceRule()
    {
        using var a = new SimulatedHost();
        var platform = Make("p1", BaselineKind.Platform, a.Verified());
        var (input, _) = a.Attest();
        var bad = EvidenceVerifier.Verify(input with { Nonce = new byte[32] });

        var report = Evaluate(Host(), bad, [PlatformPool("p1"), new Pool("other", new PoolRequirement { Tags = new Dictionary<string, string> { ["x"] = "y" } })], platform);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Equal("NonceMismatch", Assert.Single(report.Faults).Code);
        Assert.Equal(2, report.Pools.Count);
        Assert.All(report.Pools, p =>
        {
            Assert.Equal(TrustLevel.Untrusted, p.Trust);
            var rule = Assert.Single(p.Rules);
            Assert.Equal("evidence", rule.Rule);
            Assert.False(rule.Passed);
        });
        Assert.Empty(report.Pcrs);
    }

    [Fact]
    public void Evaluate_RequiredTagsEqualOrDifferent_TrustedOrTagMismatch()
    {
        // Tags alone never make a pool (issue 13, hole 4): the pool also requires the host's platform.
        using var a = new SimulatedHost();
        var evidence = a.Verified();
        var platform = Make("p1", BaselineKind.Platform, evidence);
        var pool = new Pool("eu", new PoolRequirement { Platform = ["p1"], Tags = new Dictionary<string, string> { ["country"] = "DE", ["rack"] = "r1" } });

        var good = Evaluate(Host(tags: new Dictionary<string, string> { ["country"] = "DE", ["rack"] = "r1", ["extra"] = "z" }), evidence, [pool], platform);
        var bad = Evaluate(Host(tags: new Dictionary<string, string> { ["country"] = "US" }), evidence, [pool], platform);

        Assert.Equal(TrustLevel.Trusted, good.Trust);
        Assert.Equal(TrustLevel.Untrusted, bad.Trust);
        Assert.True(bad.Pools[0].Rules[0].Passed);
        var rule = bad.Pools[0].Rules[1];
        Assert.Equal("tags", rule.Rule);
        Assert.Equal("asserted", rule.TagSource);
        Assert.Equal([("country", "DE", "US"), ("rack", "r1", null)], rule.Faults.Select(f => (f.Detail, f.Expected, f.Actual)));
        Assert.All(rule.Faults, f => Assert.Equal("TagMismatch", f.Code));
    }

    [Fact]
    public void Evaluate_RequiredBaselineDoesNotExist_BaselineMissingUntrusted()
    {
        using var a = new SimulatedHost();
        var platform = Make("p1", BaselineKind.Platform, a.Verified());

        var report = Evaluate(Host(), a.Verified(), [PlatformPool("p1", "gone")], platform);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        var rule = Assert.Single(report.Pools[0].Rules);
        Assert.False(rule.Passed);
        var f = Assert.Single(rule.Faults);
        Assert.Equal(("BaselineMissing", "gone"), (f.Code, f.Detail));
    }

    [Fact]
    public void Evaluate_NoPools_UntrustedWithNoPoolMatched()
    {
        using var a = new SimulatedHost();

        var report = Evaluate(Host(), a.Verified(), []);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Equal("NoPoolMatched", Assert.Single(report.Faults).Code);
        Assert.Empty(report.Pools);
    }

    [Fact]
    public void Evaluate_OneOfTwoPoolsMatches_TrustedWithoutHostFaults()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_tampered, "host-b");
        var p1 = Make("p1", BaselineKind.Platform, a.Verified());
        var p2 = Make("p2", BaselineKind.Platform, b.Verified());

        var report = Evaluate(Host(), b.Verified(), [new Pool("strict", new PoolRequirement { Platform = ["p1"] }), new Pool("lab", new PoolRequirement { Platform = ["p2"] })], p1, p2);

        Assert.Equal(TrustLevel.Trusted, report.Trust);
        Assert.Empty(report.Faults);
        Assert.Equal([TrustLevel.Untrusted, TrustLevel.Trusted], report.Pools.Select(p => p.Trust));
    }

    [Fact]
    public void Evaluate_BaselinePcrNotQuoted_PcrNotQuoted()
    {
        using var a = new SimulatedHost();
        var platform = Make("p1", BaselineKind.Platform, a.Verified());
        var narrow = a.Verified(Tpm.Structures.PcrSelection.Single(TpmAlgorithmId.Sha256, [0, 1, 2, 3, 4, 5, 6]));

        var report = Evaluate(Host(), narrow, [PlatformPool("p1")], platform);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        var f = Assert.Single(report.Pools[0].Rules[0].Faults);
        Assert.Equal(("PcrNotQuoted", "sha256", 7), (f.Code, f.Bank, f.Index));
    }

    [Fact]
    public void Evaluate_HostUniqueBaselineOfAnotherHost_Untrusted()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_tampered, "host-b");
        var unique = Make("host-a-unique", BaselineKind.HostUnique, a.Verified());
        var pool = new Pool("pinned", new PoolRequirement { HostUnique = ["host-a-unique"] });

        Assert.Equal(10, unique.Pcrs.Count);
        Assert.Equal(TrustLevel.Trusted, Evaluate(Host("host-a"), a.Verified(), [pool], unique).Trust);
        Assert.Equal(TrustLevel.Untrusted, Evaluate(Host("host-b"), b.Verified(), [pool], unique).Trust);
    }

    [Fact]
    public void Evaluate_SoftwareAllowlist_TrustedOnlyWhenEveryFileAllowed()
    {
        using var a = new SimulatedHost(name: "host-a");
        a.RunFile("/usr/bin/bash", "bash 5.2");
        a.RunFile("/usr/lib/libc.so.6", "glibc 2.36");
        var software = Make("sw1", BaselineKind.Software, a.Verified());
        var platform = Make("p1", BaselineKind.Platform, a.Verified());
        using var b = new SimulatedHost(name: "host-b");
        b.RunFile("/usr/bin/bash", "bash 5.2");
        b.RunFile("/tmp/implant", "evil");
        var pool = new Pool("sw", new PoolRequirement { Platform = ["p1"], Software = ["sw1"] });

        var good = Evaluate(Host("host-a"), a.Verified(), [pool], software, platform);
        var bad = Evaluate(Host("host-b"), b.Verified(), [pool], software, platform);

        Assert.Equal(TrustLevel.Trusted, good.Trust);
        Assert.Equal(TrustLevel.Untrusted, bad.Trust);
        Assert.Equal(["platform", "software"], bad.Pools[0].Rules.Select(r => r.Rule));
        var f = Assert.Single(bad.Pools[0].Rules[1].Faults);
        Assert.Equal(("ImaEntryNotAllowed", "/tmp/implant"), (f.Code, f.Detail));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("evil"u8)), f.Actual);
    }

    [Fact]
    public void Evaluate_SoftwareRequiredWithoutImaLog_ImaLogMissing()
    {
        using var a = new SimulatedHost(name: "host-a");
        a.RunFile("/usr/bin/bash", "bash 5.2");
        var software = Make("sw1", BaselineKind.Software, a.Verified());
        using var b = new SimulatedHost(name: "host-b");

        var report = Evaluate(Host(), b.Verified(), [new Pool("sw", new PoolRequirement { Software = ["sw1"] })], software);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Equal("ImaLogMissing", Assert.Single(report.Pools[0].Rules[0].Faults).Code);
    }

    [Fact]
    public void Evaluate_BaselineOfWrongKindInRule_BaselineKindMismatch()
    {
        using var a = new SimulatedHost();
        var os = Make("os1", BaselineKind.Os, a.Verified());

        var report = Evaluate(Host(), a.Verified(), [PlatformPool("os1")], os);

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Equal("BaselineKindMismatch", Assert.Single(report.Pools[0].Rules[0].Faults).Code);
    }

    [Fact]
    public void Unknown_AgentUnreachable_UnknownWithTheReasonAndNoPools()
    {
        var report = Evaluator.Unknown(Host(), new Fault("AgentUnreachable", "connection refused"), s_now, TimeSpan.FromMinutes(1));

        Assert.Equal(TrustLevel.Unknown, report.Trust);
        Assert.Equal("AgentUnreachable", Assert.Single(report.Faults).Code);
        Assert.Empty(report.Pools);
        Assert.Equal(s_now.AddMinutes(1), report.ValidTo);
        Assert.True(report.IsValidAt(s_now));
        Assert.False(report.IsValidAt(s_now.AddMinutes(1)));
    }
}
