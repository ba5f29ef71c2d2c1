using TrustPool.Tpm;

namespace TrustPool.Attestation;

/// <summary>
/// One named reason a check failed, JSON-ready (STYLE: a typed result carrying the evidence, not a bool).
/// <see cref="Code"/> is stable (see <see cref="FaultCodes"/>); <see cref="Message"/> is one line for an operator;
/// <see cref="Expected"/> and <see cref="Actual"/> carry full lower-case hex where they are digests.
/// </summary>
public sealed record Fault(string Code, string Message)
{
    /// <summary>PCR bank name as tpm2-tools spells it (<c>sha256</c>).</summary>
    public string? Bank { get; init; }

    /// <summary>PCR index, or for IMA the entry number.</summary>
    public int? Index { get; init; }

    public string? Expected { get; init; }

    public string? Actual { get; init; }

    /// <summary>Number of the event (UEFI: TcgEvent.Number; IMA: entry index) the fault points at.</summary>
    public int? EventNumber { get; init; }

    /// <summary>Event type name, e.g. <c>EV_EFI_PLATFORM_FIRMWARE_BLOB</c>.</summary>
    public string? EventType { get; init; }

    /// <summary>Anything else: the malformed field and offset, the IMA path, the clock counter that went back.</summary>
    public string? Detail { get; init; }

    /// <summary>First 8 hex digits and "..": the short form used in messages.</summary>
    internal static string Short(string hex) => hex.Length <= 8 ? hex : hex[..8] + "..";

    /// <summary>
    /// A PCR that differs from what was expected. The message reads
    /// <c>PCR[0] sha256 expected 3d45a1b2.. got 9a1c77e0..; first differing event #12 EV_EFI_PLATFORM_FIRMWARE_BLOB</c>.
    /// </summary>
    internal static Fault Pcr(string code, TpmAlgorithmId bank, int index, string expected, string actual, int? eventNumber, string? eventType, string? detail = null)
    {
        var bankName = TpmHash.Name(bank);
        var message = $"PCR[{index}] {bankName} expected {Short(expected)} got {Short(actual)}" +
            (eventNumber is { } n ? $"; first differing event #{n} {eventType}" : "") +
            (detail is null ? "" : $" ({detail})");
        return new Fault(code, message)
        {
            Bank = bankName,
            Index = index,
            Expected = expected,
            Actual = actual,
            EventNumber = eventNumber,
            EventType = eventType,
            Detail = detail,
        };
    }
}

/// <summary>The stable fault codes this project emits (quote faults keep QuoteFault.Code).</summary>
public static class FaultCodes
{
    // Quote (TrustPool.Tpm.Quotes.QuoteFault names, passed through unchanged).
    public const string MalformedEvidence = "MalformedEvidence";
    public const string SignatureInvalid = "SignatureInvalid";
    public const string SignatureSchemeMismatch = "SignatureSchemeMismatch";
    public const string MagicInvalid = "MagicInvalid";
    public const string NotAQuote = "NotAQuote";
    public const string NonceMismatch = "NonceMismatch";
    public const string SelectionMismatch = "SelectionMismatch";
    public const string PcrValueMissing = "PcrValueMissing";
    public const string PcrDigestMismatch = "PcrDigestMismatch";

    // Evidence.
    public const string ClockRollback = "ClockRollback";
    public const string EventLogMalformed = "EventLogMalformed";
    public const string EventLogDoesNotReplay = "EventLogDoesNotReplay";
    public const string ImaLogDoesNotReplay = "ImaLogDoesNotReplay";
    public const string ImaTemplateHashMismatch = "ImaTemplateHashMismatch";

    // Evaluation.
    public const string PcrMismatch = "PcrMismatch";
    public const string PcrNotQuoted = "PcrNotQuoted";
    public const string BaselineMissing = "BaselineMissing";
    public const string BaselineKindMismatch = "BaselineKindMismatch";
    public const string BaselineEmpty = "BaselineEmpty";
    public const string BaselineInvalid = "BaselineInvalid";
    public const string ImaLogMissing = "ImaLogMissing";
    public const string ImaEntryNotAllowed = "ImaEntryNotAllowed";
    public const string TagMismatch = "TagMismatch";
    public const string NoPoolMatched = "NoPoolMatched";

    // Pool policy (issue 13, hole 4): only a verified measurement of what booted can make a pool, and so a host, trusted.

    /// <summary>The pool requires no platform, os or hostUnique baseline (tags or software only): it never makes a host trusted.</summary>
    public const string PoolRequiresNoMeasurement = "PoolRequiresNoMeasurement";

    /// <summary>A platform/os/hostUnique baseline expects only PCRs software can reset at will (16, 20-23): it proves nothing about what booted.</summary>
    public const string BaselineMeasuresNoBoot = "BaselineMeasuresNoBoot";

    // Service level (made by callers through Evaluator.Unknown).
    public const string AgentUnreachable = "AgentUnreachable";
    public const string ReportExpired = "ReportExpired";
    public const string NonceExpired = "NonceExpired";
    public const string ReEnrollmentRequired = "ReEnrollmentRequired";

    /// <summary>Unknown: the host's enrolled AK is one enrollment now refuses (SHA-1 name or scheme, no scheme, short key): enroll it again.</summary>
    public const string AkWeak = "AkWeak";

    // Identity (issue 13: one TPM is one host; a report belongs to one enrollment).
    /// <summary>
    /// The quote did not verify with the enrolled AK and the agent now presents other TPM keys than the host enrolled
    /// with (Detail names the enrolled host they belong to, if any): the host is marked re-enrollment-required.
    /// </summary>
    public const string AgentIdentityMismatch = "AgentIdentityMismatch";

    // Issue 13, evidence parsing and verification (log fields the TPM did not sign).

    /// <summary>Evidence fault: an IMA entry's template name does not match its bytes (field count, d-ng/n-ng, ima-buf digest) or is unknown.</summary>
    public const string ImaTemplateInvalid = "ImaTemplateInvalid";

    /// <summary>Software rule: an entry named boot_aggregate that is not the aggregate of the quoted PCRs (or not the first entry) and not allowlisted.</summary>
    public const string ImaBootAggregateMismatch = "ImaBootAggregateMismatch";

    /// <summary>Notice (never a verdict): the UEFI log reproduces none of the quoted PCRs; it is ignored (no facts, no event names).</summary>
    public const string EventLogUnverified = "EventLogUnverified";

    /// <summary>Notice (never a verdict): the UEFI log carries no digest of any quoted bank (e.g. SHA-1 only against a SHA-256 quote); ignored.</summary>
    public const string EventLogBankNotQuoted = "EventLogBankNotQuoted";
}
