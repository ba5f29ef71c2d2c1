using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Verification;

/// <summary>
/// The outcome of <see cref="EvidenceVerifier.Verify"/>. Every value exposed here is verified: PCRs only when the
/// quote verified and only those it covers; the UEFI log only when it replayed exactly to the quoted PCRs it
/// touches and reproduced at least one, and of it only <see cref="UefiVerifiedEvents"/> are evidence; the IMA log
/// only when it replayed to the quoted PCR 10. <see cref="IsVerified"/> means no fault at all.
/// </summary>
public sealed class VerifiedEvidence
{
    internal VerifiedEvidence(IReadOnlyList<Fault> faults) => Faults = faults;

    public IReadOnlyList<Fault> Faults { get; }

    /// <summary>True when no check failed: the only state in which a host may be judged trusted.</summary>
    public bool IsVerified => Faults.Count == 0;

    /// <summary>The quote-covered PCR values; null unless the quote verified.</summary>
    public PcrValues? Pcrs { get; internal init; }

    /// <summary>The selection the quote covers; null unless the quote verified.</summary>
    public PcrSelection? Selection { get; internal init; }

    /// <summary>The nonce the verified quote carries in extraData; null unless the quote verified.</summary>
    public byte[]? Nonce { get; internal init; }

    /// <summary>
    /// The UEFI event log, only when it replayed exactly to the quoted PCRs it touches AND reproduced at least one of
    /// them. Even then only <see cref="UefiVerifiedEvents"/> are evidence: events of PCRs or banks the quote does not
    /// cover are the host's word.
    /// </summary>
    public TcgEventLog? UefiLog { get; internal init; }

    /// <summary>The bytes of <see cref="UefiLog"/> (a baseline keeps them as its reference log).</summary>
    public byte[]? UefiLogBytes { get; internal init; }

    /// <summary>Quoted (bank, PCR) pairs the UEFI log replayed to exactly; empty without <see cref="UefiLog"/>.</summary>
    public IReadOnlyList<(TpmAlgorithmId Bank, int Index)> UefiVerifiedPcrs { get; internal init; } = [];

    /// <summary>The events of <see cref="UefiLog"/> bound to the quote (EventLogVerification.VerifiedEvents); the only ones facts and messages may name.</summary>
    public IReadOnlyList<TcgEvent> UefiVerifiedEvents { get; internal init; } = [];

    /// <summary>
    /// Why a UEFI log the host sent was ignored although it did not contradict the quote (EventLogUnverified,
    /// EventLogBankNotQuoted). A notice, not one of <see cref="Faults"/>: nothing from that log is used, so it cannot
    /// make a host trusted, and an honest host whose log simply covers other PCRs is not made untrusted.
    /// </summary>
    public Fault? UefiLogNotice { get; internal init; }

    /// <summary>Facts decoded from <see cref="UefiVerifiedEvents"/> only (informational).</summary>
    public BootFacts? Facts { get; internal init; }

    /// <summary>The IMA log, only when it replayed to the quoted PCR 10.</summary>
    public ImaLog? Ima { get; internal init; }

    /// <summary>The entries of <see cref="Ima"/> the replay needed to reach the quoted PCR 10 (entries logged after the quote are not evidence yet).</summary>
    public IReadOnlyList<ImaEntry> ImaEntries { get; internal init; } = [];

    /// <summary>
    /// The first entry of the kernel's list when it is named boot_aggregate AND its digest is the aggregate of the
    /// quoted PCR 0-9 (or 0-7, kernels before 5.8) of its algorithm's bank; null otherwise. Only this entry is exempt
    /// from the software allowlist.
    /// </summary>
    public ImaEntry? ImaBootAggregate { get; internal init; }

    /// <summary>The IMA replay state to resume from at the next attestation (only with <see cref="Ima"/>).</summary>
    public ImaReplayState? ImaState { get; internal init; }

    /// <summary>Clock and counters of the verified quote: the previous clock of the next attestation.</summary>
    public TpmsClockInfo? Clock { get; internal init; }
}
