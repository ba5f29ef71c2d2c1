namespace TrustPool.Attestation;

/// <summary>
/// The verdict of a trust report (ARCHITECTURE.md "Trust semantics"). JSON: <c>"unknown"</c>, <c>"untrusted"</c>,
/// <c>"trusted"</c>. Unknown (no verified evidence) is never treated as trusted by any consumer.
/// </summary>
public enum TrustLevel
{
    /// <summary>Evidence could not be obtained or verified (agent down, not enrolled, report expired).</summary>
    Unknown,

    /// <summary>Evidence was verified and something did not match, or the evidence itself failed verification.</summary>
    Untrusted,

    /// <summary>Evidence verified and every rule of at least one pool matched.</summary>
    Trusted,
}
