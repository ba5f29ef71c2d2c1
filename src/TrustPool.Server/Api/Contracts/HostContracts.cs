using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using TrustPool.Server.Audit;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api.Contracts;

/// <summary>Body of <c>POST /v1/hosts</c>: the host to enroll.</summary>
/// <param name="Name">The host name: 1..253 letters, digits, '.', '_' or '-'.</param>
/// <param name="AgentUrl">The agent's absolute https URL (may carry a path base).</param>
/// <param name="AgentCertFingerprint">The SHA-256 of the agent's TLS certificate (64 hex digits) to pin; trust on first use when absent.</param>
/// <param name="Tags">Operator-asserted asset tags (up to 64).</param>
public sealed record EnrollHostRequest(string Name, string AgentUrl, string? AgentCertFingerprint, IReadOnlyDictionary<string, string>? Tags)
{
    /// <summary>Parses and bounds the body (the checks and messages of <see cref="EnrollmentService.ParseRequest"/>).</summary>
    public static EnrollmentRequest Parse(JsonBody body) => EnrollmentService.ParseRequest(body);
}

/// <summary>Body of <c>POST /v1/hosts/{name}/enroll</c>: every member optional, absent ones keep the host's current value.</summary>
/// <param name="AgentUrl">A new absolute https agent URL.</param>
/// <param name="AgentCertFingerprint">The SHA-256 of the agent's TLS certificate (64 hex digits) to pin.</param>
/// <param name="Tags">New operator-asserted asset tags.</param>
public sealed record ReEnrollHostRequest(string? AgentUrl, string? AgentCertFingerprint, IReadOnlyDictionary<string, string>? Tags)
{
    /// <summary>Parses and bounds the body; the URL is checked once the current one is known.</summary>
    public static ReEnrollHostRequest Parse(JsonBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var url = body.OptionalString("agentUrl", 2048);
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var agentUrl) || agentUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw ServiceException.Invalid("agentUrl", "must be an absolute https URL");
        }

        var fingerprint = body.OptionalString("agentCertFingerprint", 128);
        if (fingerprint is not null && !EnrollmentService.IsFingerprint(fingerprint))
        {
            throw ServiceException.Invalid("agentCertFingerprint", "must be the 64 hex digits of a SHA-256");
        }

        var tags = body.OptionalStringMap("tags");
        return new(url, fingerprint?.ToLowerInvariant(), tags);
    }
}

/// <summary>Body of <c>PUT /v1/hosts/{name}/tags</c>.</summary>
/// <param name="Tags">The host's new operator-asserted asset tags (replace the old ones).</param>
public sealed record SetHostTagsRequest(IReadOnlyDictionary<string, string> Tags)
{
    /// <summary>Parses and bounds the body.</summary>
    public static SetHostTagsRequest Parse(JsonBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new(body.OptionalStringMap("tags") ?? throw ServiceException.Invalid("tags", "is required (an object of strings)"));
    }
}

/// <summary>
/// A host as the API shows it, with its trust as of now (an expired report means unknown). Its tags are labelled
/// <c>tagSource: asserted</c>: an operator set them, the TPM never attested them.
/// </summary>
public record HostView
{
    /// <summary>The host name.</summary>
    public required string Name { get; init; }

    /// <summary>The agent's URL.</summary>
    public required string AgentUrl { get; init; }

    /// <summary>The pinned SHA-256 of the agent's TLS certificate, lower-case hex.</summary>
    public required string TlsFingerprint { get; init; }

    /// <summary>The TPM name of the enrolled AK, lower-case hex.</summary>
    public required string AkName { get; init; }

    /// <summary>Whether the TPM presented an EK certificate.</summary>
    public required bool EkCertificate { get; init; }

    /// <summary><c>ca</c> (the EK certificate chains to a vendor CA) or <c>tofu</c> (trusted on first use).</summary>
    public required string EkTrust { get; init; }

    /// <summary><c>enrolled</c> or <c>re-enrollment-required</c>.</summary>
    public required string State { get; init; }

    /// <summary>The operator-asserted asset tags.</summary>
    public required IReadOnlyDictionary<string, string> Tags { get; init; }

    /// <summary>Always <c>asserted</c>: the tags are the operator's word.</summary>
    public required string TagSource { get; init; }

    /// <summary>When the current enrollment was made.</summary>
    public required DateTimeOffset EnrolledAt { get; init; }

    /// <summary>The host's trust as of now: <c>trusted</c>, <c>untrusted</c> or <c>unknown</c>.</summary>
    public required string Trust { get; init; }

    /// <summary>The id of the latest report (null when none).</summary>
    public required string? ReportId { get; init; }

    /// <summary>When the latest report's evidence was verified.</summary>
    public required DateTimeOffset? VerifiedAt { get; init; }

    /// <summary>When the latest report expires.</summary>
    public required DateTimeOffset? ValidTo { get; init; }

    /// <summary>The view of <paramref name="h"/> with <paramref name="latest"/> (its latest report, if any) judged as of now.</summary>
    public static HostView From(HostRecord h, ReportRecord? latest, ServerContext s)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(s);
        return new()
        {
            Name = h.Name,
            AgentUrl = h.AgentUrl,
            TlsFingerprint = h.TlsFingerprint,
            AkName = Convert.ToHexStringLower(h.AkName),
            EkCertificate = h.EkCertificate is not null,
            EkTrust = h.EkTrust,
            State = h.State,
            Tags = JsonSerializer.Deserialize(h.TagsJson, HostJsonContext.Default.IReadOnlyDictionaryStringString) ?? new Dictionary<string, string>(),
            TagSource = AuditRecords.TagSourceAsserted,
            EnrolledAt = h.EnrolledAt,
            Trust = ReportView.TrustName(s.Attestations.CurrentTrust(latest)),
            ReportId = latest?.Id,
            VerifiedAt = latest?.VerifiedAt,
            ValidTo = latest?.ValidTo,
        };
    }
}

/// <summary>One host with its latest report (<c>GET /v1/hosts/{name}</c>): the <see cref="HostView"/> members and <c>report</c>.</summary>
public sealed record HostDetailView : HostView
{
    public HostDetailView()
    {
    }

    /// <summary><paramref name="view"/> with <paramref name="latest"/>.</summary>
    [SetsRequiredMembers]
    public HostDetailView(HostView view, ReportRecord? latest)
        : base(view ?? throw new ArgumentNullException(nameof(view))) => Report = latest is null ? null : ReportView.From(latest);

    /// <summary>The latest report (null when the host was never attested).</summary>
    public required ReportView? Report { get; init; }
}

/// <summary>The answer of <c>GET /v1/hosts</c>.</summary>
/// <param name="Hosts">Every enrolled host.</param>
public sealed record HostListView(IReadOnlyList<HostView> Hosts);

/// <summary>The source-generated JSON of the host contracts.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EnrollHostRequest))]
[JsonSerializable(typeof(ReEnrollHostRequest))]
[JsonSerializable(typeof(SetHostTagsRequest))]
[JsonSerializable(typeof(HostView))]
[JsonSerializable(typeof(HostDetailView))]
[JsonSerializable(typeof(HostListView))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class HostJsonContext : JsonSerializerContext;
