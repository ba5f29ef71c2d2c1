using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Verification;

/// <summary>
/// The outcome of <see cref="EvidenceVerifier.Verify"/>. Every value exposed here is verified: PCRs only when the
/// quote verified and only those it covers; the UEFI log only when it replayed exactly to the quoted PCRs it
/// touches; the IMA log only when it replayed to the quoted PCR 10. <see cref="IsVerified"/> means no fault at all.
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

    /// <summary>The UEFI event log, only when it replayed exactly to the quoted PCRs it touches.</summary>
    public TcgEventLog? UefiLog { get; internal init; }

    /// <summary>The bytes of <see cref="UefiLog"/> (a baseline keeps them as its reference log).</summary>
    public byte[]? UefiLogBytes { get; internal init; }

    /// <summary>Facts decoded from the verified UEFI log (informational).</summary>
    public BootFacts? Facts { get; internal init; }

    /// <summary>The IMA log, only when it replayed to the quoted PCR 10.</summary>
    public ImaLog? Ima { get; internal init; }

    /// <summary>The IMA replay state to resume from at the next attestation (only with <see cref="Ima"/>).</summary>
    public ImaReplayState? ImaState { get; internal init; }

    /// <summary>Clock and counters of the verified quote: the previous clock of the next attestation.</summary>
    public TpmsClockInfo? Clock { get; internal init; }
}
