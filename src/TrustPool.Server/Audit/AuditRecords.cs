using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Audit.Records;
using TrustPool.Server.Auth;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Audit;

/// <summary>The audit records the service writes (schema version 1 each).</summary>
public static class AuditRecords
{
    public const int SchemaVersion = 1;

    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static AuditRecord HostEnrolled(HostRecord host, bool reenrolled, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.HostEnrolled, SchemaVersion, time, new JsonObject
        {
            ["host"] = host.Name,
            ["agentUrl"] = host.AgentUrl,
            ["akName"] = Convert.ToHexStringLower(host.AkName),
            ["ekPublicSha256"] = Sha256Hex(host.EkPublic),
            ["ekTrust"] = host.EkTrust,
            ["reenrolled"] = reenrolled,
            ["tags"] = Tags(host.TagsJson),
            ["tagSource"] = TagSourceAsserted,
            ["actor"] = ActorNode(actor),
        });

    public static AuditRecord HostRemoved(HostRecord? host, string name, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.HostRemoved, SchemaVersion, time, new JsonObject
        {
            ["host"] = name,
            ["akName"] = host is null ? null : Convert.ToHexStringLower(host.AkName),
            ["ekPublicSha256"] = host is null ? null : Sha256Hex(host.EkPublic),
            ["actor"] = ActorNode(actor),
        });

    /// <summary>Written by the service when an attestation finds the AK or EK changed: no actor.</summary>
    public static AuditRecord HostReenrollmentRequired(HostRecord host, DateTimeOffset time) =>
        new(AuditRecordTypes.HostReenrollmentRequired, SchemaVersion, time, new JsonObject
        {
            ["host"] = host.Name,
            ["akName"] = Convert.ToHexStringLower(host.AkName),
            ["ekPublicSha256"] = Sha256Hex(host.EkPublic),
        });

    /// <summary><paramref name="change"/>: created, changed or deleted.</summary>
    public static AuditRecord BaselineChanged(string change, string name, int? version, string? kind, string? digest, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.BaselineChanged, SchemaVersion, time, new JsonObject
        {
            ["change"] = change,
            ["name"] = name,
            ["version"] = version,
            ["kind"] = kind,
            ["digest"] = digest,
            ["actor"] = ActorNode(actor),
        });

    /// <summary><paramref name="change"/>: created, changed or deleted.</summary>
    public static AuditRecord PoolChanged(string change, string name, int? version, string? documentJson, DateTimeOffset time, Actor? actor = null) =>
        new(AuditRecordTypes.PoolChanged, SchemaVersion, time, new JsonObject
        {
            ["change"] = change,
            ["name"] = name,
            ["version"] = version,
            ["documentSha256"] = documentJson is null ? null : Sha256Hex(documentJson),
            ["actor"] = ActorNode(actor),
        });

    /// <summary>
    /// The service's verdict, written in the report batch whether the scheduler or <c>POST /v1/hosts/{name}/attest</c>
    /// asked for it: no actor (who asked does not change what the evidence says).
    /// </summary>
    public static AuditRecord ReportIssued(ReportRecord report) =>
        new(AuditRecordTypes.ReportIssued, SchemaVersion, report.VerifiedAt, new JsonObject
        {
            ["reportId"] = report.Id,
            ["host"] = report.Host,
            ["result"] = report.Trust,
            ["validFrom"] = Iso(report.ValidFrom),
            ["validTo"] = Iso(report.ValidTo),
            ["jwsSha256"] = Sha256Hex(report.Jws),
        });

    public static AuditRecord PlacementMade(PlacementRecord p, Actor? actor) =>
        new(AuditRecordTypes.PlacementMade, SchemaVersion, p.CreatedAt, Placement(p, actor));

    public static AuditRecord PlacementReleased(PlacementRecord p, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.PlacementReleased, SchemaVersion, time, Placement(p, actor));

    private static JsonObject Placement(PlacementRecord p, Actor? actor) => new()
    {
        ["placementId"] = p.Id,
        ["workload"] = p.Workload,
        ["host"] = p.Host,
        ["reportId"] = p.ReportId,
        ["actor"] = ActorNode(actor),
    };

    /// <summary>An evacuation plan: the moves (workload, from, to) as the API returned them, its digest, and who asked for it.</summary>
    public static AuditRecord EvacuationPlanned(JsonNode plan, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.EvacuationPlanned, SchemaVersion, time, new JsonObject
        {
            ["plan"] = plan.DeepClone(),
            ["planSha256"] = Sha256Hex(CanonicalJson.Encode(plan)),
            ["actor"] = ActorNode(actor),
        });

    /// <summary>How every host tag is labelled: set by an operator (audited here), not attested by the TPM.</summary>
    public const string TagSourceAsserted = "asserted";

    /// <summary>
    /// A host's tags replaced (<c>PUT /v1/hosts/{name}/tags</c>). Tags decide pool membership, placement and Placement
    /// traits, and are only the operator's word: both values are recorded, labelled asserted, with who set them.
    /// </summary>
    public static AuditRecord HostTagsChanged(string host, string oldTagsJson, string newTagsJson, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.HostTagsChanged, SchemaVersion, time, new JsonObject
        {
            ["host"] = host,
            ["old"] = Tags(oldTagsJson),
            ["new"] = Tags(newTagsJson),
            ["tagSource"] = TagSourceAsserted,
            ["actor"] = ActorNode(actor),
        });

    /// <summary>
    /// A host's inventory replaced (<c>PUT /v1/hosts/{name}/inventory</c>): operator-asserted capacity and power the
    /// scheduler places by. Old and new as their JSON text (fractions such as load cannot be canonical JSON numbers).
    /// </summary>
    public static AuditRecord HostInventoryChanged(string host, string? oldInventoryJson, string newInventoryJson, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.HostInventoryChanged, SchemaVersion, time, new JsonObject
        {
            ["host"] = host,
            ["old"] = oldInventoryJson,
            ["new"] = newInventoryJson,
            ["actor"] = ActorNode(actor),
        });

    /// <summary>An API token created: its id, name and role, never the token nor its hash.</summary>
    public static AuditRecord TokenCreated(TokenRecord token, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.TokenCreated, SchemaVersion, time, Token(token, actor));

    /// <summary>An API token revoked: its id, name and role, never the token nor its hash.</summary>
    public static AuditRecord TokenRevoked(TokenRecord token, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.TokenRevoked, SchemaVersion, time, Token(token, actor));

    private static JsonObject Token(TokenRecord token, Actor? actor) => new()
    {
        ["tokenId"] = token.Id,
        ["name"] = token.Name,
        ["role"] = token.Role,
        ["actor"] = ActorNode(actor),
    };

    /// <summary>
    /// A webhook subscription created: id, the URL's origin and SHA-256, events; never its HMAC secret. The full URL is
    /// left out because receivers often carry a credential in it (path or query) and readers may read the audit log.
    /// </summary>
    public static AuditRecord WebhookCreated(WebhookRecord hook, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.WebhookCreated, SchemaVersion, time, Webhook(hook, actor, withEvents: true));

    /// <summary>A webhook subscription deleted: id, the URL's origin and SHA-256, never its HMAC secret.</summary>
    public static AuditRecord WebhookDeleted(WebhookRecord hook, Actor? actor, DateTimeOffset time) =>
        new(AuditRecordTypes.WebhookDeleted, SchemaVersion, time, Webhook(hook, actor, withEvents: false));

    private static JsonObject Webhook(WebhookRecord hook, Actor? actor, bool withEvents)
    {
        var fields = new JsonObject
        {
            ["webhookId"] = hook.Id,
            ["urlOrigin"] = Origin(hook.Url),
            ["urlSha256"] = Sha256Hex(hook.Url),
        };
        if (withEvents)
        {
            fields["events"] = JsonNode.Parse(hook.EventsJson);
        }

        fields["actor"] = ActorNode(actor);
        return fields;
    }

    /// <summary>Who acted: the id, name and role of the bearer token (never the token), or null when unknown.</summary>
    private static JsonObject? ActorNode(Actor? actor) => actor is null ? null : new JsonObject
    {
        ["tokenId"] = actor.TokenId,
        ["name"] = actor.Name,
        ["role"] = Roles.Name(actor.Role),
    };

    private static string Origin(string url) => Events.TrustEvents.Origin(url) ?? "";

    private static JsonNode Tags(string tagsJson) => JsonNode.Parse(tagsJson) ?? new JsonObject();

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
