using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api;

/// <summary>
/// <c>/v1/tokens</c> and <c>/v1/webhooks</c>: admin only. Each change (who may act, where trust events go) is an audit
/// record in the transaction that makes it, with who made it; never a token, its hash or a webhook secret.
/// </summary>
public static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/tokens", CreateTokenAsync).RequireRole(Role.Admin).WithName("CreateToken");
        v1.MapGet("/tokens", ListTokensAsync).RequireRole(Role.Admin).WithName("ListTokens");
        v1.MapDelete("/tokens/{id}", RevokeTokenAsync).RequireRole(Role.Admin).WithName("RevokeToken");
        v1.MapPost("/webhooks", CreateWebhookAsync).RequireRole(Role.Admin).WithName("CreateWebhook");
        v1.MapGet("/webhooks", ListWebhooksAsync).RequireRole(Role.Admin).WithName("ListWebhooks");
        v1.MapDelete("/webhooks/{id}", DeleteWebhookAsync).RequireRole(Role.Admin).WithName("DeleteWebhook");
    }

    /// <summary><c>{role, name?}</c> → the token in clear text, shown this once.</summary>
    private static async Task<IResult> CreateTokenAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var roleName = body.RequiredString("role", 16);
        if (!Roles.TryParse(roleName, out var role))
        {
            throw ServiceException.Invalid("role", $"'{roleName}' is not admin, operator or reader");
        }

        var name = body.OptionalString("name", 128) ?? roleName;
        var (record, token) = s.Tokens.NewRecord(name, role);
        await using (var tx = await s.Store.BeginAsync(http.RequestAborted))
        {
            await tx.InsertTokenAsync(record);
            tx.Audit(AuditRecords.TokenCreated(record, RoleFilter.ActorOf(http), s.Now));
            await tx.CommitAsync();
        }

        return Results.Created($"/v1/tokens/{record.Id}", new JsonObject { ["id"] = record.Id, ["name"] = record.Name, ["role"] = record.Role, ["token"] = token });
    }

    private static async Task<IResult> ListTokensAsync(HttpContext http, ServerContext s)
    {
        var tokens = await s.Store.ListTokensAsync(http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["tokens"] = new JsonArray([.. tokens.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id, ["name"] = t.Name, ["role"] = t.Role, ["createdAt"] = t.CreatedAt, ["revokedAt"] = t.RevokedAt,
            })]),
        });
    }

    private static async Task<IResult> RevokeTokenAsync(HttpContext http, ServerContext s, string id)
    {
        var token = (await s.Store.ListTokensAsync(http.RequestAborted)).FirstOrDefault(t => t.Id == id && t.RevokedAt is null)
            ?? throw ServiceException.NotFound($"token '{id}'");
        await using (var tx = await s.Store.BeginAsync(http.RequestAborted))
        {
            if (!await tx.RevokeTokenAsync(id, s.Now))
            {
                throw ServiceException.NotFound($"token '{id}'");
            }

            tx.Audit(AuditRecords.TokenRevoked(token, RoleFilter.ActorOf(http), s.Now));
            await tx.CommitAsync();
        }

        s.Tokens.ForgetCached();
        return Results.NoContent();
    }

    /// <summary><c>{url, events?}</c> → the subscription and its HMAC secret (base64), shown this once.</summary>
    private static async Task<IResult> CreateWebhookAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var url = body.RequiredString("url", 2048);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttps && u.Scheme != Uri.UriSchemeHttp))
        {
            throw ServiceException.Invalid("url", "must be an absolute http(s) URL");
        }

        var events = body.OptionalStringList("events", 16, 64) ?? ["trust.changed"];
        var secret = RandomNumberGenerator.GetBytes(32);
        var record = new WebhookRecord(Guid.NewGuid().ToString("N"), u.ToString(), secret, JsonSerializer.Serialize(events), s.Now);
        await using (var tx = await s.Store.BeginAsync(http.RequestAborted))
        {
            await tx.InsertWebhookAsync(record);
            tx.Audit(AuditRecords.WebhookCreated(record, RoleFilter.ActorOf(http), s.Now));
            await tx.CommitAsync();
        }

        return Results.Created($"/v1/webhooks/{record.Id}", new JsonObject
        {
            ["id"] = record.Id, ["url"] = record.Url, ["events"] = JsonNode.Parse(record.EventsJson), ["secret"] = Convert.ToBase64String(secret),
        });
    }

    private static async Task<IResult> ListWebhooksAsync(HttpContext http, ServerContext s)
    {
        var hooks = await s.Store.ListWebhooksAsync(http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["webhooks"] = new JsonArray([.. hooks.Select(h => (JsonNode)new JsonObject
            {
                ["id"] = h.Id, ["url"] = h.Url, ["events"] = JsonNode.Parse(h.EventsJson), ["createdAt"] = h.CreatedAt,
            })]),
        });
    }

    private static async Task<IResult> DeleteWebhookAsync(HttpContext http, ServerContext s, string id)
    {
        var hook = (await s.Store.ListWebhooksAsync(http.RequestAborted)).FirstOrDefault(h => h.Id == id) ?? throw ServiceException.NotFound($"webhook '{id}'");
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        if (!await tx.DeleteWebhookAsync(id))
        {
            throw ServiceException.NotFound($"webhook '{id}'");
        }

        tx.Audit(AuditRecords.WebhookDeleted(hook, RoleFilter.ActorOf(http), s.Now));
        await tx.CommitAsync();
        return Results.NoContent();
    }
}
