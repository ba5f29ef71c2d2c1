using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TrustPool.Tpm.Text;

namespace TrustPool.Server.Api;

/// <summary>
/// A request body read with a size bound and parsed into a JSON object; accessors throw
/// <see cref="ServiceException"/> (bad input) naming the field, so a handler never sees a wrong type.
/// </summary>
public sealed class JsonBody : IDisposable
{
    public const int DefaultMaxBytes = 1 << 20;

    private readonly JsonDocument _doc;

    private JsonBody(JsonDocument doc) => _doc = doc;

    public JsonElement Root => _doc.RootElement;

    public static async Task<JsonBody> ReadAsync(HttpRequest request, int maxBytes = DefaultMaxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            throw new ServiceException(ServiceErrorKind.TooLarge, ServiceErrors.TooLarge, $"body is larger than {maxBytes} bytes");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw new ServiceException(ServiceErrorKind.TooLarge, ServiceErrors.TooLarge, $"body is larger than {maxBytes} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        var bytes = buffer.ToArray();

        // JsonDocument checks UTF-8 only when a string is read (GetString throws InvalidOperationException), so an
        // invalid byte in a field name or value would surface from an accessor as a 500: refuse it here as bad JSON.
        if (Utf8Bytes.FirstInvalid(bytes) is var at and >= 0)
        {
            throw new ServiceException(ServiceErrorKind.InvalidInput, ServiceErrors.BadJson, $"body is not UTF-8: invalid byte at offset {at}", "body");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new ServiceException(ServiceErrorKind.InvalidInput, ServiceErrors.BadJson, $"body is not JSON: {e.Message}", "body");
        }

        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw ServiceException.Invalid("body", "must be a JSON object");
        }

        return new JsonBody(doc);
    }

    public string? OptionalString(string field, int maxLength = 4096)
    {
        if (!Root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            throw ServiceException.Invalid(field, "must be a string");
        }

        var s = v.GetString()!;
        return s.Length > maxLength ? throw ServiceException.Invalid(field, $"longer than {maxLength} characters") : s;
    }

    public string RequiredString(string field, int maxLength = 4096) =>
        OptionalString(field, maxLength) is { Length: > 0 } s ? s : throw ServiceException.Invalid(field, "is required");

    public IReadOnlyList<string>? OptionalStringList(string field, int maxItems = 64, int maxLength = 256)
    {
        if (!Root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.String)
        {
            return [Check(field, v.GetString()!, maxLength)];
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw ServiceException.Invalid(field, "must be a list of strings");
        }

        if (v.GetArrayLength() > maxItems)
        {
            throw ServiceException.Invalid(field, $"more than {maxItems} items");
        }

        var list = new List<string>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw ServiceException.Invalid(field, "must be a list of strings");
            }

            list.Add(Check(field, item.GetString()!, maxLength));
        }

        return list;
    }

    public IReadOnlyDictionary<string, string>? OptionalStringMap(string field, int maxItems = 64, int maxLength = 256)
    {
        if (!Root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Object)
        {
            throw ServiceException.Invalid(field, "must be an object of strings");
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                throw ServiceException.Invalid($"{field}.{p.Name}", "must be a string");
            }

            if (map.Count >= maxItems)
            {
                throw ServiceException.Invalid(field, $"more than {maxItems} entries");
            }

            map[Check(field, p.Name, maxLength)] = Check($"{field}.{p.Name}", p.Value.GetString()!, maxLength);
        }

        return map;
    }

    private static string Check(string field, string s, int maxLength) =>
        s.Length > maxLength ? throw ServiceException.Invalid(field, $"longer than {maxLength} characters") : s;

    public void Dispose() => _doc.Dispose();
}
