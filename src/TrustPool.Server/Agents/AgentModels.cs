using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Agents;

/// <summary>
/// An agent's <c>GET v1/identity</c> answer (ARCHITECTURE.md "Agent API"). Unverified: enrollment must still prove that
/// the AK lives in the TPM of this EK (MakeCredential / ActivateCredential) before anything here is trusted.
/// </summary>
/// <param name="EkPublic">TPM2B_PUBLIC of the EK.</param>
/// <param name="EkCertificate">The EK certificate (DER) from NV, when the TPM has one.</param>
/// <param name="AkPublic">TPM2B_PUBLIC of the AK.</param>
/// <param name="AkName">The AK's TPM name (nameAlg id + digest of TPMT_PUBLIC).</param>
/// <param name="TlsFingerprint">Lower-case hex SHA-256 of the agent's TLS certificate, as the agent claims it.</param>
/// <param name="Hostname">The host name the agent reports.</param>
/// <param name="Manufacturer">TPM manufacturer (e.g. <c>IBM</c>), when reported.</param>
/// <param name="FirmwareVersion">TPM firmware version text, when reported.</param>
/// <param name="Banks">PCR bank names (<c>sha1</c>, <c>sha256</c>, ...).</param>
public sealed record AgentIdentity(byte[] EkPublic, byte[]? EkCertificate, byte[] AkPublic, byte[] AkName, string TlsFingerprint,
    string Hostname, string? Manufacturer, string? FirmwareVersion, IReadOnlyList<string> Banks);

/// <summary>
/// An agent's <c>POST v1/quote</c> answer. Unverified until QuoteVerifier accepts <see cref="Quote"/> with the enrolled AK
/// and the nonce that was sent; the logs are trusted only as far as they replay to the verified PCRs.
/// </summary>
/// <param name="Quote">TPMS_ATTEST bytes.</param>
/// <param name="Signature">TPMT_SIGNATURE bytes.</param>
/// <param name="Pcrs">The PCR values the agent reports (checked for bank, index range and digest size only).</param>
/// <param name="UefiLog">The TCG PC Client event log, when the agent has one.</param>
/// <param name="ImaLog">IMA entries from the asked offset on, when the agent has an IMA log.</param>
/// <param name="ImaNextOffset">The IMA entry number to ask for next time.</param>
public sealed record AgentQuote(byte[] Quote, byte[] Signature, PcrValues Pcrs, byte[]? UefiLog, byte[]? ImaLog, long? ImaNextOffset);

/// <summary>Limits and pooling of <see cref="AgentClient"/>.</summary>
public sealed record AgentClientOptions
{
    /// <summary>Whole-request timeout: connect, TLS, request, response body.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A larger response body (declared or read) is a protocol failure; bodies are never buffered past it.</summary>
    public long MaxResponseBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Connections per (scheme, authority, pin): simulated agents behind one listener share them.</summary>
    public int MaxConnectionsPerServer { get; init; } = 64;

    /// <summary>Idle keep-alive connections are closed after this.</summary>
    public TimeSpan PooledConnectionIdleTimeout { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>Why a call to an agent failed.</summary>
public enum AgentFailure
{
    /// <summary>Connection refused, no route, name not resolved.</summary>
    Unreachable,

    /// <summary>No complete answer within <see cref="AgentClientOptions.Timeout"/>.</summary>
    Timeout,

    /// <summary>The agent presented a TLS certificate whose fingerprint is not the pinned one (or, at first contact, not the one it claims).</summary>
    TlsPinMismatch,

    /// <summary>The TLS handshake failed otherwise, typically the agent refusing our client certificate (it trusts another CA).</summary>
    TlsRejected,

    /// <summary>The agent answered with a non-2xx status (see <see cref="AgentException.StatusCode"/> and <see cref="AgentException.ProblemType"/>).</summary>
    HttpError,

    /// <summary>The answer is not what the Agent API specifies (see <see cref="AgentException.Field"/>).</summary>
    Protocol,
}

/// <summary>A call to an agent failed; <see cref="Failure"/> says how. Messages never hold secrets or key material.</summary>
public sealed class AgentException : Exception
{
    public AgentException()
        : this(AgentFailure.Protocol, "agent call failed")
    {
    }

    public AgentException(string message)
        : this(AgentFailure.Protocol, message)
    {
    }

    public AgentException(string message, Exception innerException)
        : this(AgentFailure.Protocol, message, innerException)
    {
    }

    public AgentException(AgentFailure failure, string message, Exception? innerException = null, int? statusCode = null, string? problemType = null, string? field = null)
        : base(message, innerException)
    {
        Failure = failure;
        StatusCode = statusCode;
        ProblemType = problemType;
        Field = field;
    }

    public AgentFailure Failure { get; }

    /// <summary>The HTTP status for <see cref="AgentFailure.HttpError"/>.</summary>
    public int? StatusCode { get; }

    /// <summary>The ProblemDetails <c>type</c> of an error answer (e.g. <c>urn:trustpool:agent:tpm-busy</c>), when there was one.</summary>
    public string? ProblemType { get; }

    /// <summary>The offending field: for <see cref="AgentFailure.Protocol"/> in the answer (<c>pcrs.sha256.7</c>, <c>body</c>), for <see cref="AgentFailure.HttpError"/> the agent's <c>field</c>.</summary>
    public string? Field { get; }

    internal static AgentException Protocol(string field, string message, Exception? inner = null) =>
        new(AgentFailure.Protocol, $"agent answer: {message}", inner, field: field);
}
