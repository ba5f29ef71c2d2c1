namespace TrustPool.Attestation.Evaluation;

/// <summary>The host being judged. <paramref name="EkTrust"/>: <c>ca</c> (EK certificate chains to a vendor CA) or <c>tofu</c> (trusted on first use).</summary>
public sealed record HostContext(string Name, string EkTrust, IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// One rule of a pool: <c>evidence</c>, <c>platform</c>, <c>os</c>, <c>software</c>, <c>hostUnique</c>, <c>tags</c>, or
/// <c>measurement</c> (failed: the pool requires no platform, os or hostUnique baseline).
/// <paramref name="Baseline"/> is the baseline that matched (any-of) or the one the faults are reported against.
/// </summary>
public sealed record RuleResult(string Rule, bool Passed, string? Baseline, int? BaselineVersion, IReadOnlyList<Fault> Faults)
{
    /// <summary>
    /// The tags rule only: <c>asserted</c>, the host's tags were set by an operator (audited, never attested by the TPM).
    /// </summary>
    public string? TagSource { get; init; }
}

/// <summary>The verdict for one pool: trusted only when every rule passed.</summary>
public sealed record PoolResult(string Pool, int PoolVersion, TrustLevel Trust, IReadOnlyList<RuleResult> Rules);

/// <summary>TPMS_CLOCK_INFO (TPM 2.0 Part 2, 10.11.1) of the verified quote.</summary>
public sealed record ReportClock(ulong Clock, uint ResetCount, uint RestartCount, bool Safe);

/// <summary>A baseline a report relied on; <paramref name="Kind"/> is the JSON kind name (<c>platform</c>, <c>host-unique</c>, ...).</summary>
public sealed record BaselineRef(string Name, int Version, string Kind);

/// <summary>
/// The result of evaluating one piece of evidence against the pools (ARCHITECTURE.md "Terms", trust report).
/// Valid from <see cref="ValidFrom"/> to <see cref="ValidTo"/>; signed as a JWS by ReportSigner.
/// </summary>
public sealed record TrustReport
{
    /// <summary>A new GUID, "N" format.</summary>
    public required string Id { get; init; }

    public required string Host { get; init; }

    /// <summary>
    /// The id of the host's enrollment (host + EK + AK) this report judges, set by the service before signing. A report is
    /// the host's current one only while this is its enrollment id: a removed or re-enrolled host never inherits it.
    /// </summary>
    public string? Enrollment { get; init; }

    public required TrustLevel Trust { get; init; }

    public required string EkTrust { get; init; }

    public required DateTimeOffset VerifiedAt { get; init; }

    public required DateTimeOffset ValidFrom { get; init; }

    public required DateTimeOffset ValidTo { get; init; }

    /// <summary>Host-level faults: evidence faults, NoPoolMatched, or the reason of an unknown report.</summary>
    public IReadOnlyList<Fault> Faults { get; init; } = [];

    public IReadOnlyList<PoolResult> Pools { get; init; } = [];

    /// <summary>
    /// The pools that made the host trusted: each one's every rule passed and it contains a platform, os or hostUnique
    /// rule that passed on verified PCRs. Empty exactly when <see cref="Trust"/> is not trusted.
    /// </summary>
    public IReadOnlyList<string> TrustedPools { get; init; } = [];

    /// <summary>Verified (quote-covered) PCRs: bank -> index -> lower-case hex.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Pcrs { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>The nonce of the verified quote, lower-case hex.</summary>
    public string? Nonce { get; init; }

    public ReportClock? Clock { get; init; }

    /// <summary>Every baseline (name, version, kind) the evaluation used.</summary>
    public IReadOnlyList<BaselineRef> Baselines { get; init; } = [];

    /// <summary>True when <paramref name="at"/> lies in [ValidFrom, ValidTo).</summary>
    public bool IsValidAt(DateTimeOffset at) => at >= ValidFrom && at < ValidTo;
}
