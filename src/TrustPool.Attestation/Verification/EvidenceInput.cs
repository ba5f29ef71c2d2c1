using TrustPool.Evidence.Ima;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Verification;

/// <summary>
/// One attestation's evidence as an agent returned it (ARCHITECTURE.md "Agent API", POST /v1/quote), plus what the
/// service knows: the enrolled <paramref name="Ak"/>, the <paramref name="Nonce"/> it sent, the selection it asked
/// for and the clock of the last verified quote. Everything the agent sent is unverified until
/// <see cref="EvidenceVerifier.Verify"/> accepts it.
/// </summary>
public sealed record EvidenceInput(AttestationKey Ak, byte[] Nonce, PcrSelection Selection, byte[] Quote, byte[] Signature,
    PcrValues Pcrs, byte[]? UefiLog, byte[]? ImaLog, TpmsClockInfo? PreviousClock)
{
    /// <summary>
    /// Saved IMA replay state of the previous attestation: the IMA log given then starts at entry
    /// <see cref="ImaReplayState.EntryCount"/> (the agent's <c>imaOffset</c>).
    /// </summary>
    public ImaReplayState? ImaResume { get; init; }
}
