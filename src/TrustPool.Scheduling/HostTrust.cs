namespace TrustPool.Scheduling;

/// <summary>
/// A host's trust as the latest trust report states it. <see cref="Unknown"/> is never treated as trusted
/// (ARCHITECTURE.md, trust semantics); an expired report reads as <see cref="Unknown"/>.
/// </summary>
public enum HostTrust
{
    /// <summary>No report, evidence could not be obtained or verified, or the report expired.</summary>
    Unknown,

    /// <summary>Evidence was verified and something did not match.</summary>
    Untrusted,

    /// <summary>Every check passed and the report is inside its validity window.</summary>
    Trusted,
}
