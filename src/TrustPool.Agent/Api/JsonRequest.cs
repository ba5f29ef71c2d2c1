using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TrustPool.Tpm.Text;

namespace TrustPool.Agent.Api;

/// <summary>
/// Reads and checks request bodies by hand, so every fault names its field and nothing a client sends reaches the TPM
/// unchecked. Kestrel's MaxRequestBodySize bounds the bytes; JSON depth is bounded here.
/// </summary>
internal static class JsonRequest
{
    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow };

    public static async Task<JsonDocument> ReadObjectAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        ReadResult result;
        try
        {
            while (true)
            {
                result = await reader.ReadAsync(context.RequestAborted);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }

                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new AgentProblem(413, AgentProblem.BodyTooLarge, "Request body too large",
                $"the body exceeds {AgentDefaults.MaxRequestBodyBytes} bytes", "body");
        }

        try
        {
            JsonDocument doc;
            try
            {
                // JsonDocument keeps referring to the memory it parsed: copy out of the pipe's buffers, which Kestrel
                // reuses for the next request on the connection once AdvanceTo releases them.
                var bytes = result.Buffer.ToArray();

                // JsonDocument checks UTF-8 only when a string is read (GetString throws InvalidOperationException),
                // so an invalid byte in a field name or value would surface as a 500: refuse it here as a 400.
                if (Utf8Bytes.FirstInvalid(bytes) is var at and >= 0)
                {
                    throw new AgentProblem(400, AgentProblem.MalformedJson, "Malformed JSON", $"the body is not UTF-8: invalid byte at offset {at}", "body");
                }

                doc = JsonDocument.Parse(bytes, s_options);
            }
            catch (JsonException e)
            {
                throw new AgentProblem(400, AgentProblem.MalformedJson, "Malformed JSON", "the body is not JSON: " + e.Message, "body");
            }

            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new AgentProblem(400, AgentProblem.MalformedJson, "Malformed JSON", "the body must be a JSON object", "body");
            }

            return doc;
        }
        finally
        {
            reader.AdvanceTo(result.Buffer.End);
        }
    }

    /// <summary>A required (or, with <paramref name="required"/> false, optional) base64 string of <paramref name="min"/>..<paramref name="max"/> bytes.</summary>
    public static byte[]? Base64(JsonElement root, string field, int min, int max, bool required = true)
    {
        if (!root.TryGetProperty(field, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            return required ? throw AgentProblem.Invalid(field, $"'{field}' is required") : null;
        }

        if (e.ValueKind != JsonValueKind.String)
        {
            throw AgentProblem.Invalid(field, $"'{field}' must be a base64 string, not {e.ValueKind}");
        }

        // Decode at most what the largest allowed value needs; longer strings are rejected before decoding.
        var text = e.GetString()!;
        if (text.Length > ((max + 2) / 3 * 4) + 4)
        {
            throw AgentProblem.Invalid(field, $"'{field}' holds more than {max} bytes");
        }

        var buffer = new byte[(text.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var n))
        {
            throw AgentProblem.Invalid(field, $"'{field}' is not valid base64");
        }

        if (n < min || n > max)
        {
            throw AgentProblem.Invalid(field, $"'{field}' must hold {min}..{max} bytes, not {n}");
        }

        return buffer.AsSpan(0, n).ToArray();
    }
}
