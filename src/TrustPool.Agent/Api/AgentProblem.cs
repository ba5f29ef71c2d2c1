using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TrustPool.Tpm.Client;

namespace TrustPool.Agent.Api;

/// <summary>
/// One error envelope (RFC 9457 ProblemDetails, <c>application/problem+json</c>) with a stable <c>type</c> per fault
/// (STYLE.md, RK JsonWrapper). Extension members: <c>field</c> for bad input, <c>tpmResponseCode</c> for TPM failures.
/// </summary>
public sealed class AgentProblem : Exception
{
    public const string TypePrefix = "urn:trustpool:agent:";

    /// <summary>A request field is missing, of the wrong JSON type, or out of range.</summary>
    public const string InvalidField = TypePrefix + "invalid-field";

    /// <summary>The body is not JSON (or not a JSON object).</summary>
    public const string MalformedJson = TypePrefix + "malformed-json";

    /// <summary>The body exceeds Kestrel's MaxRequestBodySize (64 KiB).</summary>
    public const string BodyTooLarge = TypePrefix + "body-too-large";

    /// <summary>No agent at this path base, or no such endpoint.</summary>
    public const string NotFound = TypePrefix + "not-found";

    /// <summary>The endpoint exists but not for this HTTP method.</summary>
    public const string MethodNotAllowed = TypePrefix + "method-not-allowed";

    /// <summary>The TPM queue is full or the wait ran out; Retry-After says when to try again.</summary>
    public const string TpmBusy = TypePrefix + "tpm-busy";

    /// <summary>The TPM (or the way to it) failed; <c>tpmResponseCode</c> carries the TPM_RC when there is one.</summary>
    public const string TpmFailure = TypePrefix + "tpm-failure";

    /// <summary>The TPM refused the credential (ActivateCredential parameter error: it was not made for this EK and AK).</summary>
    public const string CredentialRejected = TypePrefix + "credential-rejected";

    /// <summary>A bug; the process keeps running.</summary>
    public const string Internal = TypePrefix + "internal";

    public AgentProblem(int status, string type, string title, string detail, string? field = null)
        : base(detail)
    {
        Status = status;
        Type = type;
        Title = title;
        Field = field;
    }

    public AgentProblem()
        : this(500, Internal, "Internal error", "internal error")
    {
    }

    public AgentProblem(string message)
        : this(500, Internal, "Internal error", message)
    {
    }

    public AgentProblem(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 500;
        Type = Internal;
        Title = "Internal error";
    }

    public int Status { get; }

    public string Type { get; }

    public string Title { get; }

    public string? Field { get; }

    public uint? TpmResponseCode { get; init; }

    public int? RetryAfterSeconds { get; init; }

    public static AgentProblem Invalid(string field, string detail) => new(400, InvalidField, "Invalid request field", detail, field);

    public async Task WriteAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        response.StatusCode = Status;
        response.ContentType = "application/problem+json";
        if (RetryAfterSeconds is { } retry)
        {
            response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await using (var w = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("type", Type);
            w.WriteString("title", Title);
            w.WriteNumber("status", Status);
            w.WriteString("detail", Message);
            if (Field is not null)
            {
                w.WriteString("field", Field);
            }

            if (TpmResponseCode is { } rc)
            {
                w.WriteString("tpmResponseCode", $"0x{rc:x3}");
                w.WriteString("tpmResponseCodeText", new TpmResponseCode(rc).ToString());
            }

            w.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
