using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Agents;

/// <summary>
/// The Agent API calls enrollment and attestation make (ARCHITECTURE.md "Agent API"). <see cref="AgentClient"/> is the
/// mutual-TLS implementation; tests give the services canned answers through this interface. Every answer is the
/// agent's word, unverified: callers verify quotes with the enrolled AK and credentials against the secret they made.
/// Failures are <see cref="AgentException"/>s whose <see cref="AgentException.Failure"/> says how the call failed.
/// </summary>
public interface IAgentClient
{
    /// <summary>
    /// <c>GET v1/identity</c>. With <paramref name="pinnedFingerprint"/> the agent's TLS certificate must have that
    /// fingerprint; without one (first contact) the answer counts only when the presented certificate is the one the
    /// identity names. Returns the identity and the fingerprint of the certificate presented.
    /// </summary>
    Task<(AgentIdentity Identity, string PresentedFingerprint)> GetIdentityAsync(Uri agentUrl, string? pinnedFingerprint, CancellationToken ct = default);

    /// <summary><c>POST v1/activate-credential</c>: the secret the agent's TPM recovered from the MakeCredential challenge.</summary>
    Task<byte[]> ActivateCredentialAsync(Uri agentUrl, string pinnedFingerprint, byte[] credentialBlob, byte[] encryptedSecret, CancellationToken ct = default);

    /// <summary><c>POST v1/quote</c> of <paramref name="selection"/> with <paramref name="nonce"/>; checked for form only.</summary>
    Task<AgentQuote> QuoteAsync(Uri agentUrl, string pinnedFingerprint, byte[] nonce, PcrSelection selection, long? imaOffset, CancellationToken ct = default);

    /// <summary><c>GET v1/health</c>: true when the agent reports <c>ok</c>, false when it answers with an error status.</summary>
    Task<bool> HealthAsync(Uri agentUrl, string pinnedFingerprint, CancellationToken ct = default);
}
