using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Server.Attesting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api.Contracts;

/// <summary>A trust report's signed payload as the API spells it (members the payload leaves out are left out here too).</summary>
public record ReportPayload
{
    /// <summary>The report id (a GUID, "N" format).</summary>
    public required string Id { get; init; }

    /// <summary>The host the report judges.</summary>
    public required string Host { get; init; }

    /// <summary>The enrollment (host + EK + AK) the report belongs to; a report of another enrollment is history only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Enrollment { get; init; }

    /// <summary>The verdict when it was issued: <c>trusted</c>, <c>untrusted</c> or <c>unknown</c>.</summary>
    public required string Trust { get; init; }

    /// <summary><c>ca</c> (the EK certificate chains to a vendor CA) or <c>tofu</c> (trusted on first use).</summary>
    public required string EkTrust { get; init; }

    /// <summary>When the evidence was verified.</summary>
    public required DateTimeOffset VerifiedAt { get; init; }

    /// <summary>Start of the validity window.</summary>
    public required DateTimeOffset ValidFrom { get; init; }

    /// <summary>End of the validity window (exclusive).</summary>
    public required DateTimeOffset ValidTo { get; init; }

    /// <summary>Host-level faults: evidence faults, NoPoolMatched, or the reason of an unknown report.</summary>
    public required IReadOnlyList<FaultView> Faults { get; init; }

    /// <summary>The verdict per pool.</summary>
    public required IReadOnlyList<PoolResultView> Pools { get; init; }

    /// <summary>The pools that made the host trusted (empty unless <see cref="Trust"/> is trusted).</summary>
    public required IReadOnlyList<string> TrustedPools { get; init; }

    /// <summary>Verified (quote-covered) PCRs: bank -> index -> lower-case hex.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Pcrs { get; init; }

    /// <summary>The nonce of the verified quote, lower-case hex.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Nonce { get; init; }

    /// <summary>TPMS_CLOCK_INFO of the verified quote.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ClockView? Clock { get; init; }

    /// <summary>Every baseline the evaluation used.</summary>
    public required IReadOnlyList<BaselineRefView> Baselines { get; init; }

    /// <summary>The payload of <paramref name="report"/>.</summary>
    public static ReportPayload From(TrustReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new()
        {
            Id = report.Id,
            Host = report.Host,
            Enrollment = report.Enrollment,
            Trust = TrustName(report.Trust),
            EkTrust = report.EkTrust,
            VerifiedAt = report.VerifiedAt,
            ValidFrom = report.ValidFrom,
            ValidTo = report.ValidTo,
            Faults = FaultView.From(report.Faults),
            Pools = [.. report.Pools.Select(PoolResultView.From)],
            TrustedPools = report.TrustedPools,
            Pcrs = report.Pcrs,
            Nonce = report.Nonce,
            Clock = report.Clock is { } c ? new ClockView(c.Clock, c.ResetCount, c.RestartCount, c.Safe) : null,
            Baselines = [.. report.Baselines.Select(b => new BaselineRefView(b.Name, b.Version, b.Kind))],
        };
    }

    /// <summary>A trust level as the JSON of reports spells it (<c>trusted</c>, <c>untrusted</c>, <c>unknown</c>).</summary>
    public static string TrustName(TrustLevel t) => AttestationService.Name(t);
}

/// <summary>
/// A stored trust report as the API returns it: the signed payload's fields plus the compact JWS itself;
/// <c>currentTrust</c> and <c>agentFailure</c> only where a route adds them.
/// </summary>
public sealed record ReportView : ReportPayload
{
    public ReportView()
    {
    }

    /// <summary><paramref name="payload"/> and its JWS.</summary>
    [SetsRequiredMembers]
    public ReportView(ReportPayload payload, string jws)
        : base(payload ?? throw new ArgumentNullException(nameof(payload))) => Jws = jws;

    /// <summary>The signed report, a compact JWS (ES256); verify it with <c>/v1/keys</c>.</summary>
    public required string Jws { get; init; }

    /// <summary>The host's trust as of now by this report (an expired report, or one of a past enrollment, is unknown).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CurrentTrust { get; init; }

    /// <summary>Attest now only: the agent failed, and this (unknown) report records it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AgentFailure { get; init; }

    /// <summary>A stored report: its signed payload's fields and its JWS.</summary>
    public static ReportView From(ReportRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return From(TrustReportJson.Parse(r.PayloadJson), r.Jws);
    }

    /// <summary>A report and its JWS.</summary>
    public static ReportView From(TrustReport report, string jws) => new(ReportPayload.From(report), jws);
}

/// <summary>One named reason a check failed; members that do not apply are left out.</summary>
/// <param name="Code">The stable fault code, e.g. <c>PcrMismatch</c>.</param>
/// <param name="Message">One line for an operator.</param>
public sealed record FaultView(string Code, string Message)
{
    /// <summary>PCR bank name as tpm2-tools spells it (<c>sha256</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Bank { get; init; }

    /// <summary>PCR index, or for IMA the entry number.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Index { get; init; }

    /// <summary>The expected value (full lower-case hex for digests).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Expected { get; init; }

    /// <summary>The actual value (full lower-case hex for digests).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Actual { get; init; }

    /// <summary>Number of the event the fault points at.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? EventNumber { get; init; }

    /// <summary>Event type name, e.g. <c>EV_EFI_PLATFORM_FIRMWARE_BLOB</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EventType { get; init; }

    /// <summary>Anything else: the malformed field and offset, the IMA path, the clock counter that went back.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    internal static IReadOnlyList<FaultView> From(IEnumerable<Fault> faults) =>
    [
        .. faults.Select(f => new FaultView(f.Code, f.Message)
        {
            Bank = f.Bank,
            Index = f.Index,
            Expected = f.Expected,
            Actual = f.Actual,
            EventNumber = f.EventNumber,
            EventType = f.EventType,
            Detail = f.Detail,
        }),
    ];
}

/// <summary>The verdict for one pool: trusted only when every rule passed.</summary>
/// <param name="Pool">The pool's name.</param>
/// <param name="PoolVersion">The pool version evaluated.</param>
/// <param name="Trust"><c>trusted</c>, <c>untrusted</c> or <c>unknown</c>.</param>
/// <param name="Rules">Each rule's result.</param>
public sealed record PoolResultView(string Pool, int PoolVersion, string Trust, IReadOnlyList<RuleResultView> Rules)
{
    internal static PoolResultView From(PoolResult p) =>
        new(p.Pool, p.PoolVersion, ReportView.TrustName(p.Trust), [.. p.Rules.Select(RuleResultView.From)]);
}

/// <summary>One rule of a pool: <c>evidence</c>, <c>platform</c>, <c>os</c>, <c>software</c>, <c>hostUnique</c>, <c>tags</c> or <c>measurement</c>.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="Passed">Whether it passed.</param>
public sealed record RuleResultView(string Rule, bool Passed)
{
    /// <summary>The baseline that matched (any-of) or the one the faults are reported against.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Baseline { get; init; }

    /// <summary>That baseline's version.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? BaselineVersion { get; init; }

    /// <summary>Why the rule failed (empty when it passed).</summary>
    public required IReadOnlyList<FaultView> Faults { get; init; }

    /// <summary>The tags rule only: <c>asserted</c>, the tags were set by an operator, never attested by the TPM.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TagSource { get; init; }

    internal static RuleResultView From(RuleResult r) =>
        new(r.Rule, r.Passed) { Baseline = r.Baseline, BaselineVersion = r.BaselineVersion, Faults = FaultView.From(r.Faults), TagSource = r.TagSource };
}

/// <summary>TPMS_CLOCK_INFO (TPM 2.0 Part 2, 10.11.1) of the verified quote.</summary>
/// <param name="Clock">Milliseconds the TPM has been powered.</param>
/// <param name="ResetCount">TPM resets (reboots).</param>
/// <param name="RestartCount">TPM restarts/resumes since the last reset.</param>
/// <param name="Safe">Whether the clock value is guaranteed never to have been reported lower.</param>
public sealed record ClockView(ulong Clock, uint ResetCount, uint RestartCount, bool Safe);

/// <summary>A baseline a report relied on.</summary>
/// <param name="Name">The baseline's name.</param>
/// <param name="Version">Its version.</param>
/// <param name="Kind">Its kind (<c>platform</c>, <c>os</c>, <c>host-unique</c>, <c>software</c>, <c>asset-tag</c>).</param>
public sealed record BaselineRefView(string Name, int Version, string Kind);

/// <summary>A host's report history, newest first.</summary>
/// <param name="Host">The host name asked for.</param>
/// <param name="Reports">The reports.</param>
public sealed record ReportHistoryView(string Host, IReadOnlyList<ReportView> Reports);

/// <summary>Body of <c>POST /v1/reports/verify</c>.</summary>
/// <param name="Jws">A compact JWS trust report (up to 1 MiB).</param>
public sealed record VerifyReportRequest(string Jws)
{
    /// <summary>Parses and bounds the body.</summary>
    public static VerifyReportRequest Parse(JsonBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new(body.RequiredString("jws", 1 << 20));
    }
}

/// <summary>The answer of <c>POST /v1/reports/verify</c>.</summary>
/// <param name="Valid">The signature verified with this service's key.</param>
/// <param name="Current">Valid, inside its validity window and of the host's current enrollment.</param>
/// <param name="Reason">Why it is not valid or not current (null when it is current).</param>
public sealed record VerifyReportResult(bool Valid, bool Current, string? Reason)
{
    /// <summary>The verified report's payload (left out when the signature did not verify).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ReportPayload? Report { get; init; }
}

/// <summary>The JWK Set (RFC 7517) of the report-signing key, served as <c>application/jwk-set+json</c>.</summary>
/// <param name="Keys">The keys (one).</param>
public sealed record JwkSet(IReadOnlyList<Jwk> Keys);

/// <summary>One EC public key (RFC 7518 6.2).</summary>
/// <param name="Kty"><c>EC</c>.</param>
/// <param name="Crv"><c>P-256</c>.</param>
/// <param name="X">The x coordinate, base64url.</param>
/// <param name="Y">The y coordinate, base64url.</param>
/// <param name="Kid">The key id the reports' JWS header names.</param>
/// <param name="Use"><c>sig</c>.</param>
/// <param name="Alg"><c>ES256</c>.</param>
public sealed record Jwk(string Kty, string Crv, string X, string Y, string Kid, string Use, string Alg);

/// <summary>The source-generated JSON of the report contracts.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReportView))]
[JsonSerializable(typeof(ReportHistoryView))]
[JsonSerializable(typeof(VerifyReportRequest))]
[JsonSerializable(typeof(VerifyReportResult))]
[JsonSerializable(typeof(JwkSet))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
