using System.Text.Json;
using System.Text.Json.Serialization;
using TrustPool.Server.Auth;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api.Contracts;

/// <summary><c>POST /v1/tokens</c>: a new API token.</summary>
/// <param name="Role"><c>admin</c>, <c>operator</c> or <c>reader</c>.</param>
/// <param name="Name">A label (at most 128 characters); the role's name when left out.</param>
public sealed record CreateTokenRequest(string Role, string? Name = null)
{
    /// <summary>Today's bounded parsing and messages: role required and known, then the optional name.</summary>
    public static CreateTokenRequest Parse(JsonBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var role = body.RequiredString("role", 16);
        if (!Roles.TryParse(role, out _))
        {
            throw ServiceException.Invalid("role", $"'{role}' is not admin, operator or reader");
        }

        return new CreateTokenRequest(role, body.OptionalString("name", 128));
    }
}

/// <summary>A token just created: the only time its clear text is shown (the service keeps only its hash).</summary>
/// <param name="Id">The token's id (for <c>DELETE /v1/tokens/{id}</c>).</param>
/// <param name="Name">Its label.</param>
/// <param name="Role">Its role.</param>
/// <param name="Token">The bearer token in clear text, shown this once.</param>
public sealed record CreatedToken(string Id, string Name, string Role, string Token);

/// <summary>A token as listed: never its clear text nor its hash.</summary>
/// <param name="Id">The token's id.</param>
/// <param name="Name">Its label.</param>
/// <param name="Role">Its role.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; null while valid.</param>
public sealed record TokenView(string Id, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public static TokenView From(TokenRecord t) => new(t.Id, t.Name, t.Role, t.CreatedAt, t.RevokedAt);
}

/// <summary><c>GET /v1/tokens</c>.</summary>
/// <param name="Tokens">Every token, revoked ones too.</param>
public sealed record TokenList(IReadOnlyList<TokenView> Tokens);

/// <summary><c>POST /v1/webhooks</c>: a subscription to trust events.</summary>
/// <param name="Url">An absolute http(s) URL (at most 2048 characters).</param>
/// <param name="Events">Event names (at most 16, a bare string is one); <c>["trust.changed"]</c> when left out.</param>
public sealed record CreateWebhookRequest(string Url, IReadOnlyList<string>? Events = null)
{
    /// <summary>Today's bounded parsing and messages: an absolute http(s) URL, then the optional events.</summary>
    public static CreateWebhookRequest Parse(JsonBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var url = body.RequiredString("url", 2048);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttps && u.Scheme != Uri.UriSchemeHttp))
        {
            throw ServiceException.Invalid("url", "must be an absolute http(s) URL");
        }

        return new CreateWebhookRequest(u.ToString(), body.OptionalStringList("events", 16, 64));
    }
}

/// <summary>A webhook subscription just created, with its HMAC secret: shown this once.</summary>
/// <param name="Id">The subscription's id.</param>
/// <param name="Url">Where events are posted.</param>
/// <param name="Events">The event names it receives.</param>
/// <param name="Secret">The HMAC-SHA256 key of its signatures, base64.</param>
public sealed record CreatedWebhook(string Id, string Url, IReadOnlyList<string> Events, string Secret);

/// <summary>A webhook subscription as listed: never its secret.</summary>
/// <param name="Id">The subscription's id.</param>
/// <param name="Url">Where events are posted.</param>
/// <param name="Events">The event names it receives.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record WebhookView(string Id, string Url, IReadOnlyList<string> Events, DateTimeOffset CreatedAt)
{
    public static WebhookView From(WebhookRecord h) => new(h.Id, h.Url, AdminJson.Events(h.EventsJson), h.CreatedAt);
}

/// <summary><c>GET /v1/webhooks</c>.</summary>
/// <param name="Webhooks">Every subscription.</param>
public sealed record WebhookList(IReadOnlyList<WebhookView> Webhooks);

internal static class AdminJson
{
    /// <summary>A stored subscription's event names (a JSON array of strings).</summary>
    public static IReadOnlyList<string> Events(string eventsJson) =>
        JsonSerializer.Deserialize(eventsJson, AdminJsonContext.Default.IReadOnlyListString) ?? [];
}

/// <summary>The source-generated JSON of the admin area (tokens, webhooks).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(TokenList))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(CreatedWebhook))]
[JsonSerializable(typeof(WebhookList))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal partial class AdminJsonContext : JsonSerializerContext;
