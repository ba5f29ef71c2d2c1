namespace TrustPool.Agent;

/// <summary>Every default of the agent in one place (STYLE.md: defaults as constants in one file).</summary>
public static class AgentDefaults
{
    public const string Urls = "https://0.0.0.0:9443";
    public const string AkAlgorithm = "ecc";

    /// <summary>EK template: <c>rsa</c> (L-1, RSA 2048, the one most TPMs ship a certificate for) or <c>ecc</c> (L-2, P-256).</summary>
    public const string EkAlgorithm = "rsa";
    public const uint AkHandle = 0x81010002;
    public const string DataDirectory = "/var/lib/trustpool-agent";

    /// <summary>Requests that may wait for the TPM while one holds it; more get 503 + Retry-After.</summary>
    public const int MaxQueuedTpmRequests = 64;

    /// <summary>How long a request waits for the TPM before it gets 503 + Retry-After.</summary>
    public const int MaxTpmWaitMilliseconds = 10_000;

    /// <summary>Retry-After seconds sent with 503 when the TPM queue is full or the TPM is busy.</summary>
    public const int RetryAfterSeconds = 1;

    /// <summary>Kestrel MaxRequestBodySize: every request the agent accepts is far smaller.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    /// <summary>TPM2_Quote nonce bounds (qualifyingData is a TPM2B_DATA of at most 64 bytes).</summary>
    public const int MinNonceBytes = 8;
    public const int MaxNonceBytes = 64;

    /// <summary>PC Client PCRs 0..23 (TCG PC Client Platform TPM Profile, 4.5).</summary>
    public const int MaxPcrIndex = 23;

    /// <summary>Upper bound on a UEFI or IMA log file the agent will read and send.</summary>
    public const long MaxLogBytes = 32L * 1024 * 1024;

    /// <summary>How often the agent warns while it runs without client authentication.</summary>
    public static readonly TimeSpan InsecureWarningInterval = TimeSpan.FromMinutes(1);

    public const string TlsCertificateFile = "agent-tls.pem";
    public const string TlsKeyFile = "agent-tls.key";
    public const string TlsCertificateSubject = "CN=trustpool-agent";
    public const int TlsCertificateYears = 10;
}
