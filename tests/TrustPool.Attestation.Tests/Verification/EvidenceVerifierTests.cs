using System.Security.Cryptography;
using TrustPool.Attestation.Verification;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Tests.Verification;

public class EvidenceVerifierTests
{
    [Fact]
    public void Verify_GenuineEvidence_IsVerifiedWithQuotedPcrsLogAndClock()
    {
        using var host = new SimulatedHost();
        var (input, _) = host.Attest();

        var v = EvidenceVerifier.Verify(input);

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        Assert.Empty(v.Faults);
        Assert.Equal(10, v.Pcrs!.Count);
        Assert.Equal(host.Tpm.ReadPcrs(SimulatedHost.BootPcrs).Get(TpmAlgorithmId.Sha256, 0), v.Pcrs.Get(TpmAlgorithmId.Sha256, 0));
        Assert.NotNull(v.UefiLog);
        Assert.Equal(host.UefiLog, v.UefiLogBytes);
        Assert.True(v.Facts!.SecureBoot);
        Assert.Equal(input.Nonce, v.Nonce);
        Assert.Equal(host.Tpm.ClockInfo.ResetCount, v.Clock!.Value.ResetCount);
    }

    [Fact]
    public void Verify_SelectionWiderThanQuotedBanks_ExposesOnlyQuotedPcrs()
    {
        using var host = new SimulatedHost();
        var (input, _) = host.Attest(PcrSelection.Single(TpmAlgorithmId.Sha256, [0, 7]));
        input.Pcrs.Set(TpmAlgorithmId.Sha256, 9, new byte[32]); // supplied but not quoted

        var v = EvidenceVerifier.Verify(input);

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        Assert.Equal(2, v.Pcrs!.Count);
        Assert.Null(v.Pcrs.Find(TpmAlgorithmId.Sha256, 9));
    }

    [Fact]
    public void Verify_ReplayedQuoteWithOtherNonce_NonceMismatchAndNothingExposed()
    {
        using var host = new SimulatedHost();
        var (old, _) = host.Attest();
        var replayed = old with { Nonce = RandomNumberGenerator.GetBytes(32) };

        var v = EvidenceVerifier.Verify(replayed);

        var f = Assert.Single(v.Faults);
        Assert.Equal("NonceMismatch", f.Code);
        Assert.Equal(Convert.ToHexStringLower(replayed.Nonce), f.Expected);
        Assert.False(v.IsVerified);
        Assert.Null(v.Pcrs);
        Assert.Null(v.UefiLog);
        Assert.Null(v.Clock);
    }

    [Fact]
    public void Verify_QuoteSignedByAnotherTpmsAk_SignatureInvalid()
    {
        using var host = new SimulatedHost();
        using var rogue = SoftwareTpm.CreateInMemory();
        var rogueAk = rogue.CreateAk(TpmKeyAlgorithm.EccP256);
        var nonce = RandomNumberGenerator.GetBytes(32);
        var q = rogue.Quote(rogueAk.Handle, nonce, SimulatedHost.BootPcrs);
        var input = new EvidenceInput(host.Ak, nonce, SimulatedHost.BootPcrs, q.Attest, q.Signature, rogue.ReadPcrs(SimulatedHost.BootPcrs), null, null, null);

        var v = EvidenceVerifier.Verify(input);

        Assert.Equal("SignatureInvalid", Assert.Single(v.Faults).Code);
        Assert.Null(v.Pcrs);
    }

    [Fact]
    public void Verify_PcrValueEdited_PcrDigestMismatch()
    {
        using var host = new SimulatedHost();
        var (input, _) = host.Attest();
        var edited = input.Pcrs.Get(TpmAlgorithmId.Sha256, 0).ToArray();
        edited[0] ^= 1;
        input.Pcrs.Set(TpmAlgorithmId.Sha256, 0, edited);

        var v = EvidenceVerifier.Verify(input);

        var f = Assert.Single(v.Faults);
        Assert.Equal("PcrDigestMismatch", f.Code);
        Assert.Equal(64, f.Expected!.Length);
        Assert.Null(v.Pcrs);
    }

    [Fact]
    public void Verify_LogOfAnotherBoot_EventLogDoesNotReplayNamingPcrAndEvent()
    {
        using var host = new SimulatedHost();
        var (input, _) = host.Attest();
        var otherLog = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256),
            new SimulatedBoot { FirmwareVolume = "another firmware"u8.ToArray() }).ToArray();

        var v = EvidenceVerifier.Verify(input with { UefiLog = otherLog });

        var f = Assert.Single(v.Faults);
        Assert.Equal("EventLogDoesNotReplay", f.Code);
        Assert.Equal("sha256", f.Bank);
        Assert.Equal(0, f.Index);
        Assert.Equal(Convert.ToHexStringLower(input.Pcrs.Get(TpmAlgorithmId.Sha256, 0)), f.Expected);
        Assert.NotEqual(f.Expected, f.Actual);
        Assert.Null(v.UefiLog);
        Assert.NotNull(v.Pcrs); // the quote itself verified
    }

    [Fact]
    public void Verify_PreviousClockFromALaterQuote_ClockRollback()
    {
        using var host = new SimulatedHost();
        var (early, _) = host.Attest();
        host.Time.Advance(TimeSpan.FromMinutes(5));
        var later = EvidenceVerifier.Verify(host.Attest().Input);
        Assert.True(later.IsVerified);

        var v = EvidenceVerifier.Verify(early with { PreviousClock = later.Clock });

        var f = Assert.Single(v.Faults);
        Assert.Equal("ClockRollback", f.Code);
        Assert.Equal("clock", f.Detail);
    }

    [Fact]
    public void Verify_PreviousClockFromAnEarlierQuote_NoFault()
    {
        using var host = new SimulatedHost();
        var first = host.Verified();
        host.Time.Advance(TimeSpan.FromSeconds(30));

        var v = EvidenceVerifier.Verify(host.Attest(previous: first.Clock).Input);

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
    }

    [Fact]
    public void Verify_TruncatedLog_EventLogMalformedWithFieldAndOffset()
    {
        using var host = new SimulatedHost();
        var (input, _) = host.Attest();

        var v = EvidenceVerifier.Verify(input with { UefiLog = host.UefiLog[..(host.UefiLog.Length - 7)] });

        var f = Assert.Single(v.Faults);
        Assert.Equal("EventLogMalformed", f.Code);
        Assert.Contains(" at offset ", f.Detail, StringComparison.Ordinal);
        Assert.Null(v.UefiLog);
    }

    [Fact]
    public void Verify_ImaLogReplaysToQuotedPcr10_ImaVerifiedWithState()
    {
        using var host = new SimulatedHost();
        host.RunFile("/usr/bin/bash", "bash 5.2");
        host.RunFile("/usr/lib/libc.so.6", "glibc 2.36");

        var v = EvidenceVerifier.Verify(host.Attest().Input);

        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        Assert.Equal(2, v.Ima!.Entries.Count);
        Assert.Equal(2, v.ImaState!.EntryCount);
    }

    [Fact]
    public void Verify_ImaEntryHiddenFromLog_ImaLogDoesNotReplay()
    {
        using var host = new SimulatedHost();
        host.RunFile("/usr/bin/bash", "bash 5.2");
        var (input, _) = host.Attest();
        host.RunFile("/tmp/implant", "evil"); // measured into PCR 10 ...
        var q = host.Attest(nonce: input.Nonce).Input;
        var hidden = q with { ImaLog = input.ImaLog }; // ... but left out of the list sent

        var v = EvidenceVerifier.Verify(hidden);

        var f = Assert.Single(v.Faults);
        Assert.Equal("ImaLogDoesNotReplay", f.Code);
        Assert.Equal(10, f.Index);
        Assert.Null(v.Ima);
    }

    [Fact]
    public void Verify_ImaLogWithoutQuotedPcr10_ImaNotExposed()
    {
        using var host = new SimulatedHost();
        host.RunFile("/usr/bin/bash", "bash 5.2");

        var v = EvidenceVerifier.Verify(host.Attest(SimulatedHost.BootPcrs).Input);

        Assert.True(v.IsVerified);
        Assert.Null(v.Ima);
    }
}
