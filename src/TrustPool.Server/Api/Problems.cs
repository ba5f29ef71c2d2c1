using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Pools;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api;

/// <summary>ProblemDetails (RFC 9457) responses with a stable <c>type</c> per fault.</summary>
public static class Problems
{
    /// <summary>
    /// Declares, for the OpenAPI document, the ProblemDetails statuses a route answers with besides 401/403 (those come
    /// with <c>RequireRole</c>).
    /// </summary>
    public static RouteHandlerBuilder WithProblems(this RouteHandlerBuilder route, params int[] statuses)
    {
        ArgumentNullException.ThrowIfNull(route);
        foreach (var status in statuses)
        {
            route.ProducesProblem(status);
        }

        return route;
    }

    public const string TypePrefix = "urn:trustpool:service:";

    public static ProblemHttpResult Result(int status, string code, string detail, string? field = null, IDictionary<string, object?>? extensions = null)
    {
        var ext = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (field is not null)
        {
            ext["field"] = field;
        }

        if (extensions is not null)
        {
            foreach (var (k, v) in extensions)
            {
                ext[k] = v;
            }
        }

        return TypedResults.Problem(detail: detail, statusCode: status, title: Title(status), type: TypePrefix + code, extensions: ext);
    }

    /// <summary>The HTTP status of a kind of refusal: the one place a service error becomes a status code.</summary>
    public static int StatusOf(ServiceErrorKind kind) => kind switch
    {
        ServiceErrorKind.InvalidInput => 400,
        ServiceErrorKind.TooLarge => 413,
        ServiceErrorKind.NotFound => 404,
        ServiceErrorKind.Conflict => 409,
        ServiceErrorKind.Refused => 422,
        ServiceErrorKind.AgentFailed => 502,
        ServiceErrorKind.Unavailable => 503,
        _ => 500,
    };

    public static IResult From(ServiceException e) => Result(StatusOf(e.Kind), e.Code, e.Message, e.Field);

    /// <summary>
    /// A refusal thrown below the HTTP layer as its ProblemDetails; null for anything else (a bug: the caller logs it
    /// and answers 500).
    /// </summary>
    public static IResult? FromException(Exception e) => e switch
    {
        ServiceException s => From(s),
        BadHttpRequestException b => Result(b.StatusCode, ServiceErrors.BadRequest, b.Message),
        BaselineFormatException b => Result(400, ServiceErrors.BadRequest, b.Message, b.Field),
        PoolFormatException p => Result(400, ServiceErrors.BadRequest, p.Message, p.Field),
        StoreConflictException c => Result(409, ServiceErrors.Conflict, c.Message),
        StoreNotFoundException n => Result(404, ServiceErrors.NotFound, n.Message),
        _ => null,
    };

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        413 => "Payload too large",
        422 => "Unprocessable",
        502 => "Agent failure",
        503 => "Unavailable",
        _ => "Error",
    };
}
