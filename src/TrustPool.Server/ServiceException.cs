namespace TrustPool.Server;

/// <summary>What kind of refusal a <see cref="ServiceException"/> is; the HTTP layer alone turns it into a status code.</summary>
public enum ServiceErrorKind
{
    /// <summary>The request is malformed or a field is out of range (the caller's fault; retrying it unchanged fails again).</summary>
    InvalidInput,

    /// <summary>The request body is larger than the service reads.</summary>
    TooLarge,

    /// <summary>The named host, baseline, pool, report, token, webhook or placement does not exist.</summary>
    NotFound,

    /// <summary>The request collides with the current state (already exists, must be re-enrolled first, raced).</summary>
    Conflict,

    /// <summary>The request is well formed but refused on its merits (a weak key, an unknown baseline, unverified evidence).</summary>
    Refused,

    /// <summary>A host's agent could not be reached or misbehaved: not the API client's fault.</summary>
    AgentFailed,

    /// <summary>A part of the service this request needs is not available.</summary>
    Unavailable,
}

/// <summary>
/// A refusal by a service (enrollment, attestation, audit, placements, the API's own parsing), with a stable code from
/// <see cref="ServiceErrors"/> and, for bad input, the field at fault. Services throw it; only the HTTP layer
/// (<c>Api/Problems</c>) maps it to a ProblemDetails response.
/// </summary>
public sealed class ServiceException : Exception
{
    public ServiceException(ServiceErrorKind kind, string code, string detail, string? field = null)
        : base(detail)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Kind = kind;
        Code = code;
        Field = field;
    }

    public ServiceException()
        : this(ServiceErrorKind.InvalidInput, ServiceErrors.BadRequest, "bad request")
    {
    }

    public ServiceException(string message)
        : this(ServiceErrorKind.InvalidInput, ServiceErrors.BadRequest, message)
    {
    }

    public ServiceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = ServiceErrorKind.InvalidInput;
        Code = ServiceErrors.BadRequest;
    }

    public ServiceErrorKind Kind { get; }

    /// <summary>The stable code (one of <see cref="ServiceErrors"/>); the problem <c>type</c> is its URN.</summary>
    public string Code { get; }

    /// <summary>The request field at fault, for bad input.</summary>
    public string? Field { get; }

    /// <summary>A field is missing, of the wrong type or out of range.</summary>
    public static ServiceException Invalid(string field, string detail) =>
        new(ServiceErrorKind.InvalidInput, ServiceErrors.BadRequest, $"{field}: {detail}", field);

    public static ServiceException NotFound(string what) =>
        new(ServiceErrorKind.NotFound, ServiceErrors.NotFound, $"{what} does not exist");

    public static ServiceException Conflict(string detail) => new(ServiceErrorKind.Conflict, ServiceErrors.Conflict, detail);

    public static ServiceException Conflict(string code, string detail) => new(ServiceErrorKind.Conflict, code, detail);

    public static ServiceException Refused(string code, string detail, string? field = null) =>
        new(ServiceErrorKind.Refused, code, detail, field);
}

/// <summary>
/// The catalogue of stable error codes (the problem <c>type</c> is <c>urn:trustpool:service:CODE</c>); clients and
/// docs/operators/TROUBLESHOOTING.md rely on them, so a code never changes its meaning.
/// </summary>
public static class ServiceErrors
{
    /// <summary>A field is missing, of the wrong type or out of range; <c>field</c> names it.</summary>
    public const string BadRequest = "bad-request";

    /// <summary>The body is not JSON.</summary>
    public const string BadJson = "bad-json";

    /// <summary>The body exceeds what the service reads (1 MiB).</summary>
    public const string TooLarge = "too-large";

    public const string NotFound = "not-found";

    /// <summary>Already exists, or a concurrent write won (retry).</summary>
    public const string Conflict = "conflict";

    /// <summary>The host must be enrolled again before its evidence can be used.</summary>
    public const string ReEnrollmentRequired = "re-enrollment-required";

    /// <summary>Enrollment refused; the suffix says why (<c>enrollment-ak-weak</c>, <c>enrollment-ek-certificate-untrusted</c>, ...).</summary>
    public const string EnrollmentPrefix = "enrollment-";

    /// <summary>This TPM's EK or AK is already enrolled as another host.</summary>
    public const string EnrollmentEkAlreadyEnrolled = "enrollment-ek-already-enrolled";

    /// <summary>The agent failed; the suffix is the failure (<c>agent-unreachable</c>, <c>agent-timeout</c>, ...).</summary>
    public const string AgentPrefix = "agent-";

    /// <summary>The agent's TLS certificate is not the pinned one.</summary>
    public const string AgentTlsPinMismatch = "agent-tls-pin-mismatch";

    /// <summary>The agent answered after the nonce expired.</summary>
    public const string NonceExpired = "nonce-expired";

    /// <summary>A baseline can only be made from evidence that verified.</summary>
    public const string EvidenceNotVerified = "evidence-not-verified";

    /// <summary>The reference host's evidence does not give a baseline of the asked kind.</summary>
    public const string BaselineNotDerivable = "baseline-not-derivable";

    /// <summary>A pool names a baseline that does not exist.</summary>
    public const string UnknownBaseline = "unknown-baseline";

    /// <summary>A pool names a baseline of another kind than the rule.</summary>
    public const string WrongBaselineKind = "wrong-baseline-kind";

    /// <summary>No host satisfies the workload's requirements.</summary>
    public const string NoValidHost = "no-valid-host";

    /// <summary>The chosen host's report expired while deciding; ask again.</summary>
    public const string ReportExpired = "report-expired";

    public const string Unauthorized = "unauthorized";

    public const string Forbidden = "forbidden";

    /// <summary>A bug; see the service log.</summary>
    public const string Internal = "internal";
}
