using Microsoft.AspNetCore.Http;

namespace TrustPool.Server.Api;

/// <summary>
/// A request the service refuses, with a stable problem code (<c>urn:trustpool:service:CODE</c>) and, for bad
/// input, the field at fault. Thrown by handlers and services, turned into ProblemDetails at the edge.
/// </summary>
public sealed class ApiException : Exception
{
    public ApiException(int status, string code, string detail, string? field = null)
        : base(detail)
    {
        Status = status;
        Code = code;
        Field = field;
    }

    public ApiException()
        : this(500, "internal", "internal error")
    {
    }

    public ApiException(string message)
        : this(400, "bad-request", message)
    {
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 400;
        Code = "bad-request";
    }

    public int Status { get; }

    public string Code { get; }

    public string? Field { get; }

    public static ApiException BadRequest(string field, string detail) => new(400, "bad-request", $"{field}: {detail}", field);

    public static ApiException NotFound(string what) => new(404, "not-found", $"{what} does not exist");

    public static ApiException Conflict(string detail) => new(409, "conflict", detail);
}

/// <summary>ProblemDetails (RFC 9457) responses with a stable <c>type</c> per fault.</summary>
public static class Problems
{
    public const string TypePrefix = "urn:trustpool:service:";

    public static IResult Result(int status, string code, string detail, string? field = null, IDictionary<string, object?>? extensions = null)
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

        return Results.Problem(detail: detail, statusCode: status, title: Title(status), type: TypePrefix + code, extensions: ext);
    }

    public static IResult From(ApiException e) => Result(e.Status, e.Code, e.Message, e.Field);

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
