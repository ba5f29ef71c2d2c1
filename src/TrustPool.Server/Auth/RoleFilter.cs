using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using TrustPool.Server.Api;

namespace TrustPool.Server.Auth;

/// <summary>Endpoint metadata: the least role that may call it (tests enumerate endpoints by it).</summary>
public sealed record RequiredRole(Role Role);

/// <summary>
/// Bearer-token check as an endpoint filter: 401 (with <c>WWW-Authenticate: Bearer</c>) for a missing or invalid
/// token, 403 when the token's role is below the one the endpoint needs.
/// </summary>
public static class RoleFilter
{
    private static ProducesResponseTypeMetadata Problem(int status) => new(status, typeof(ProblemDetails), ["application/problem+json"]);

    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, Role role)
        where TBuilder : IEndpointConventionBuilder =>
        // 401 without a valid token, 403 with too low a role: declared here, once, for the OpenAPI document.
        builder.WithMetadata(new RequiredRole(role), Problem(StatusCodes.Status401Unauthorized), Problem(StatusCodes.Status403Forbidden))
            .AddEndpointFilter(async (context, next) =>
            {
                var http = context.HttpContext;
                var header = http.Request.Headers.Authorization.ToString();
                var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
                return await CheckAsync(http, token, role) ?? await next(context);
            });

    /// <summary>Null when <paramref name="token"/> has at least <paramref name="role"/>, else the 401/403 result.</summary>
    public static async ValueTask<IResult?> CheckAsync(HttpContext http, string? token, Role role)
    {
        var tokens = http.RequestServices.GetRequiredService<TokenService>();
        var actor = await tokens.IdentifyAsync(token, http.RequestAborted);
        var actual = actor?.Role;
        if (actual is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Result(401, ServiceErrors.Unauthorized, token is null ? "a bearer token is required" : "the token is not valid");
        }

        if (actual.Value < role)
        {
            return Problems.Result(403, ServiceErrors.Forbidden, $"this needs the {Roles.Name(role)} role; the token has {Roles.Name(actual.Value)}");
        }

        http.Items["trustpool.role"] = actual.Value;
        http.Items[ActorKey] = actor;
        return null;
    }

    private const string ActorKey = "trustpool.actor";

    /// <summary>Who the endpoint filter authenticated for this request (for audit records), or null.</summary>
    public static Actor? ActorOf(HttpContext http) => http.Items.TryGetValue(ActorKey, out var a) ? a as Actor : null;
}
