using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Pools;
using TrustPool.Attestation.Verification;
using TrustPool.Evidence;
using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Tests.Verification;

/// <summary>
/// Issue 13, holes 1 and 5: log fields the TPM did not sign (an IMA template name, a boot_aggregate path, UEFI events
/// of unquoted PCRs or banks, payloads their digest does not cover) never reach a verdict, a fact or a baseline.
/// </summary>
public class UnboundEvidenceTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyDictionary<string, string> s_noTags = new Dictionary<string, string>();
    private static readonly SimulatedBoot s_golden = new();
    private static readonly byte[] s_sig = Convert.FromHexString("030204f3452d2300080102030405060708");

    private static byte[] Le32(int v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v);
        return b;
    }

    private static byte[] TemplateData(params byte[][] fields) => [.. fields.SelectMany(f => (byte[])[.. Le32(f.Length), .. f])];

    /// <summary>An ASCII line and the template data it stands for: d-ng (sha256), n-ng, and the third field if any.</summary>
    private static (string Line, byte[] Data) Entry(string template, string path, byte[] digest, byte[]? third)
    {
        byte[][] fields = third is null
            ? [[.. "sha256:\0"u8, .. digest], Encoding.UTF8.GetBytes(path + "\0")]
            : [[.. "sha256:\0"u8, .. digest], Encoding.UTF8.GetBytes(path + "\0"), third];
        var data = TemplateData(fields);
        var tail = third is null ? "" : " " + Hex.Lower(third);
        return ($"10 {Hex.Lower(SHA1.HashData(data))} {template} sha256:{Hex.Lower(digest)} {path}{tail}\n", data);
    }

    private static void Run(SimulatedHost host, string template, string path, byte[] digest, byte[]? third)
    {
        var (line, data) = Entry(template, path, digest, third);
        host.AppendImaRaw(line, data);
    }

    /// <summary>The kernel's boot_aggregate of this host: sha256 over its PCR 0-9 (kernel 5.8+), or a wrong digest.</summary>
    private static void BootAggregate(SimulatedHost host, bool correct = true)
    {
        var pcrs = host.Tpm.ReadPcrs(PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 10))).Bank(TpmAlgorithmId.Sha256).ToDictionary(kv => kv.Key, kv => kv.Value);
        var digest = correct ? ImaBootAggregate.Compute(TpmAlgorithmId.Sha256, pcrs, 9) : SHA256.HashData("not the aggregate"u8);
        Run(host, "ima-sig", "boot_aggregate", digest, []);
    }

    private static byte[] H(string s) => SHA256.HashData(Encoding.UTF8.GetBytes(s));

    private static Baseline Software(VerifiedEvidence reference) =>
        BaselineBuilder.FromEvidence("sw", BaselineKind.Software, reference, "host-a", s_noTags, BaselineTemplate.UefiMeasuredBoot, s_now);

    /// <summary>
    /// Judges against a pool of the software baseline and an os baseline of the host's own verified PCR 8-9 (a pool
    /// must measure what booted; that rule passes here, so the verdict is the software rule's).
    /// </summary>
    private static TrustReport Judge(VerifiedEvidence evidence, Baseline software)
    {
        var os = new Baseline
        {
            Name = "os",
            Kind = BaselineKind.Os,
            Pcrs = [.. new[] { 8, 9 }.Select(i => new ExpectedPcr("sha256", i, Hex.Lower(evidence.Pcrs!.Get(TpmAlgorithmId.Sha256, i))))],
        };
        return Evaluator.Evaluate(new HostContext("host-b", "tofu", s_noTags), evidence, [new Pool("sw", new PoolRequirement { Os = ["os"], Software = ["sw"] })],
            n => n == software.Name ? software : n == os.Name ? os : null, s_now, TimeSpan.FromMinutes(5));
    }

    private static IEnumerable<Fault> RuleFaults(TrustReport r) => r.Pools.SelectMany(p => p.Rules).SelectMany(x => x.Faults);

    [Fact]
    public void Verify_AsciiImaSigEntryRelabelledAsImaBuf_ImaTemplateInvalid()
    {
        using var host = new SimulatedHost();
        BootAggregate(host);
        Run(host, "ima-buf", "/usr/bin/miner", H("miner"), s_sig); // ima-sig bytes under the name ima-buf

        var v = EvidenceVerifier.Verify(host.Attest().Input);

        var f = Assert.Single(v.Faults);
        Assert.Equal(FaultCodes.ImaTemplateInvalid, f.Code);
        Assert.Equal($"line 2: template-layout at offset {host.ImaLog!.AsSpan().IndexOf((byte)'\n') + 1}", f.Detail);
        Assert.Null(v.Ima);
    }

    [Fact]
    public void Evaluate_ImaBufEntryTheBaselineDoesNotList_ImaEntryNotAllowed()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_golden, "host-b");
        foreach (var h in new[] { a, b })
        {
            BootAggregate(h);
            Run(h, "ima-sig", "/usr/bin/bash", H("bash"), s_sig);
        }

        var buffer = "root=/dev/sda1 init=/bin/backdoor"u8.ToArray();
        Run(b, "ima-buf", "kexec-cmdline", SHA256.HashData(buffer), buffer);

        var report = Judge(b.Verified(), Software(a.Verified()));

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        var f = Assert.Single(RuleFaults(report));
        Assert.Equal((FaultCodes.ImaEntryNotAllowed, "kexec-cmdline", "ima-buf"), (f.Code, f.Detail, f.EventType));
    }

    [Fact]
    public void Evaluate_ImaBufEntryTheBaselineLists_Trusted()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_golden, "host-b");
        var buffer = "root=/dev/sda1 ro"u8.ToArray();
        foreach (var h in new[] { a, b })
        {
            BootAggregate(h);
            Run(h, "ima-buf", "kexec-cmdline", SHA256.HashData(buffer), buffer);
        }

        var baseline = Software(a.Verified());

        Assert.Contains("kexec-cmdline", baseline.ImaAllowlist!.Keys);
        Assert.Equal(TrustLevel.Trusted, Judge(b.Verified(), baseline).Trust);
    }

    [Fact]
    public void Verify_FirstEntryIsAggregateOfQuotedPcr0To9_OnlyThenExempt()
    {
        using var honest = new SimulatedHost(s_golden, "host-a");
        BootAggregate(honest);
        using var liar = new SimulatedHost(s_golden, "host-b");
        BootAggregate(liar, correct: false);

        Assert.NotNull(honest.Verified().ImaBootAggregate);
        Assert.Null(liar.Verified().ImaBootAggregate);
        // PCR 0-9 not quoted: the aggregate cannot be proven, so it is not exempt (missing PCRs are never zeros).
        Assert.Null(honest.Verified(PcrSelection.Single(TpmAlgorithmId.Sha256, [10])).ImaBootAggregate);
        Assert.Null(honest.Verified(PcrSelection.Single(TpmAlgorithmId.Sha256, [0, 1, 2, 3, 4, 5, 6, 7, 8, 10])).ImaBootAggregate);
    }

    [Fact]
    public void Evaluate_WrongBootAggregate_ImaBootAggregateMismatch()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        BootAggregate(a);
        using var b = new SimulatedHost(s_golden, "host-b");
        BootAggregate(b, correct: false);

        var report = Judge(b.Verified(), Software(a.Verified()));

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        var f = Assert.Single(RuleFaults(report));
        Assert.Equal((FaultCodes.ImaBootAggregateMismatch, 0), (f.Code, f.EventNumber));
    }

    [Fact]
    public void Evaluate_UnlistedFileNamedBootAggregateAfterTheFirstEntry_ImaBootAggregateMismatch()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_golden, "host-b");
        BootAggregate(a);
        BootAggregate(b);
        Run(b, "ima-sig", "boot_aggregate", H("miner"), []);

        var report = Judge(b.Verified(), Software(a.Verified()));

        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        var f = Assert.Single(RuleFaults(report));
        Assert.Equal((FaultCodes.ImaBootAggregateMismatch, 1), (f.Code, f.EventNumber));
    }

    [Fact]
    public void Evaluate_BootAggregateNotProvableButListedByValue_Trusted()
    {
        // A pool of an os baseline (PCR 8-9) and software quotes PCR 8-10: without PCR 0-7 the aggregate cannot be proven
        // and is judged like a file, by the baseline's digest.
        using var a = new SimulatedHost(s_golden, "host-a");
        using var b = new SimulatedHost(s_golden, "host-b");
        BootAggregate(a);
        BootAggregate(b);
        var pcr10 = PcrSelection.Single(TpmAlgorithmId.Sha256, [8, 9, 10]);

        var report = Judge(b.Verified(pcr10), Software(a.Verified()));

        Assert.Equal(TrustLevel.Trusted, report.Trust);
    }

    [Fact]
    public void FromEvidence_EntryOfAnUnquotedPcr_NotAllowlistedButStillJudged()
    {
        using var a = new SimulatedHost(s_golden, "host-a");
        BootAggregate(a);
        var (line, data) = Entry("ima-ng", "/usr/bin/miner", H("miner"), null);
        a.AppendImaRaw("11" + line[2..], data, pcr: 11); // policy pcr=11: the replay of the quoted PCR 10 does not bind it
        Run(a, "ima-ng", "/usr/bin/ls", H("ls"), null);

        var baseline = Software(a.Verified());
        var report = Judge(a.Verified(), baseline);

        Assert.DoesNotContain("/usr/bin/miner", baseline.ImaAllowlist!.Keys);
        Assert.Equal(TrustLevel.Untrusted, report.Trust);
        Assert.Equal("/usr/bin/miner", Assert.Single(RuleFaults(report)).Detail);
    }

    [Fact]
    public void Verify_Sha1OnlyLogAgainstSha256Quote_LogIgnoredWithEventLogBankNotQuoted()
    {
        using var host = new SimulatedHost(s_golden with { SecureBoot = false });
        var forged = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1), s_golden with { KernelCommandLine = "init=/bin/backdoor" }).ToArray();

        var v = EvidenceVerifier.Verify(host.Attest().Input with { UefiLog = forged });

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        Assert.Equal(FaultCodes.EventLogBankNotQuoted, v.UefiLogNotice!.Code);
        Assert.Null(v.UefiLog);
        Assert.Null(v.UefiLogBytes);
        Assert.Null(v.Facts);
        Assert.Empty(v.UefiVerifiedEvents);
        var platform = BaselineBuilder.FromEvidence("p", BaselineKind.Platform, v, "host-a", s_noTags, BaselineTemplate.UefiMeasuredBoot, s_now);
        Assert.Equal(["uefiLog"], platform.Facts.Keys);
        Assert.Null(platform.ReferenceUefiLog);
    }

    [Fact]
    public void Verify_LogOfPcrsTheQuoteDoesNotCover_LogIgnoredWithEventLogUnverified()
    {
        using var host = new SimulatedHost(s_golden);

        var v = EvidenceVerifier.Verify(host.Attest(PcrSelection.Single(TpmAlgorithmId.Sha256, [17, 18, 19])).Input);

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        Assert.Equal(FaultCodes.EventLogUnverified, v.UefiLogNotice!.Code);
        Assert.Null(v.UefiLog);
        Assert.Null(v.Facts);
    }

    [Fact]
    public void Verify_QuoteOfPcr0To7_FactsOnlyFromEventsOfThosePcrs()
    {
        using var host = new SimulatedHost(s_golden);

        var v = EvidenceVerifier.Verify(host.Attest(PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 8))).Input);

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        Assert.Null(v.UefiLogNotice);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (TpmAlgorithmId.Sha256, i)), v.UefiVerifiedPcrs);
        Assert.All(v.UefiVerifiedEvents, e => Assert.InRange(e.PcrIndex, 0u, 7u));
        Assert.True(v.Facts!.SecureBoot);
        Assert.Null(v.Facts.KernelCommandLine); // grub's kernel_cmdline is in PCR 8, not quoted
        var all = BootFacts.Extract(v.UefiLog!);
        Assert.NotNull(all.KernelCommandLine); // the unverified view still sees it: it is the host's word
    }

    [Fact]
    public void Verify_PayloadItsDigestDoesNotCover_NoFactFromIt()
    {
        // Secure Boot is off in the TPM; the log keeps the genuine digests but its SecureBoot payload says on.
        using var host = new SimulatedHost(s_golden with { SecureBoot = false });
        var log = host.Attest().Input.UefiLog!;
        var ev = TcgEventLog.Parse(log).Events.Single(e => e.EventType == TcgEventType.EfiVariableDriverConfig && TcgEventDecoder.TryDecode(e, 8, out _) is UefiVariableEvent { Name: "SecureBoot" });
        var forged = log.ToArray();
        var at = (int)ev.Offset + forged.AsSpan((int)ev.Offset).IndexOf(ev.Data) + ev.Data.Length - 1;
        forged[at] = 1;

        var v = EvidenceVerifier.Verify(host.Attest().Input with { UefiLog = forged });

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        Assert.DoesNotContain(v.UefiVerifiedEvents, e => e.Number == ev.Number);
        Assert.Null(v.Facts!.SecureBoot);
        Assert.True(BootFacts.Extract(v.UefiLog!).SecureBoot); // what the forged payload claims
    }
}
