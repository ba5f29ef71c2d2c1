using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;

namespace TrustPool.Server.Api;

/// <summary>
/// <c>/v1/tokens</c> and <c>/v1/webhooks</c>: admin only. The handlers parse, make one <see cref="AdminService"/> call
/// and serialize; each change is an audit record there, never a token, its hash or a webhook secret.
/// </summary>
public static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/tokens", CreateTokenAsync).RequireRole(Role.Admin).WithName("CreateToken")
            .Accepts<CreateTokenRequest>("application/json").WithProblems(400, 413);
        v1.MapGet("/tokens", ListTokensAsync).RequireRole(Role.Admin).WithName("ListTokens");
        v1.MapDelete("/tokens/{id}", RevokeTokenAsync).RequireRole(Role.Admin).WithName("RevokeToken")
            .WithProblems(404);
        v1.MapPost("/webhooks", CreateWebhookAsync).RequireRole(Role.Admin).WithName("CreateWebhook")
            .Accepts<CreateWebhookRequest>("application/json").WithProblems(400, 413);
        v1.MapGet("/webhooks", ListWebhooksAsync).RequireRole(Role.Admin).WithName("ListWebhooks");
        v1.MapDelete("/webhooks/{id}", DeleteWebhookAsync).RequireRole(Role.Admin).WithName("DeleteWebhook")
            .WithProblems(404);
    }

    /// <summary><c>{role, name?}</c> → the token in clear text, shown this once.</summary>
    private static async Task<Created<CreatedToken>> CreateTokenAsync(HttpContext http, ServerContext s)
    {
        CreateTokenRequest request;
        using (var body = await JsonBody.ReadAsync(http.Request))
        {
            request = CreateTokenRequest.Parse(body);
        }

        var (record, token) = await s.Admin.CreateTokenAsync(request, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.Created($"/v1/tokens/{record.Id}", new CreatedToken(record.Id, record.Name, record.Role, token));
    }

    private static async Task<Ok<TokenList>> ListTokensAsync(HttpContext http, ServerContext s) =>
        TypedResults.Ok(new TokenList([.. (await s.Admin.ListTokensAsync(http.RequestAborted)).Select(TokenView.From)]));

    private static async Task<NoContent> RevokeTokenAsync(HttpContext http, ServerContext s, string id)
    {
        await s.Admin.RevokeTokenAsync(id, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.NoContent();
    }

    /// <summary><c>{url, events?}</c> → the subscription and its HMAC secret (base64), shown this once.</summary>
    private static async Task<Created<CreatedWebhook>> CreateWebhookAsync(HttpContext http, ServerContext s)
    {
        CreateWebhookRequest request;
        using (var body = await JsonBody.ReadAsync(http.Request))
        {
            request = CreateWebhookRequest.Parse(body);
        }

        var record = await s.Admin.CreateWebhookAsync(request, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.Created($"/v1/webhooks/{record.Id}",
            new CreatedWebhook(record.Id, record.Url, AdminJson.Events(record.EventsJson), Convert.ToBase64String(record.Secret)));
    }

    private static async Task<Ok<WebhookList>> ListWebhooksAsync(HttpContext http, ServerContext s) =>
        TypedResults.Ok(new WebhookList([.. (await s.Admin.ListWebhooksAsync(http.RequestAborted)).Select(WebhookView.From)]));

    private static async Task<NoContent> DeleteWebhookAsync(HttpContext http, ServerContext s, string id)
    {
        await s.Admin.DeleteWebhookAsync(id, RoleFilter.ActorOf(http), http.RequestAborted);
        return TypedResults.NoContent();
    }
}
