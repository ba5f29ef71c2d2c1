using System.Text.Json;

namespace TrustPool.Attestation;

/// <summary>
/// Checked reads of one JSON object's fields for the document parsers: every wrong type, missing field or oversize
/// value becomes the parser's own format exception naming the field (never InvalidOperationException from
/// JsonElement).
/// </summary>
internal readonly struct JsonFields
{
    private readonly JsonElement _element;
    private readonly string _path;
    private readonly Func<string, string, Exception> _fail;

    public JsonFields(JsonElement element, string path, Func<string, string, Exception> fail)
    {
        _element = element;
        _path = path;
        _fail = fail;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw fail(path, "must be a JSON object");
        }
    }

    private string FieldName(string name) => _path is "baseline" or "pool" or "" ? name : $"{_path}.{name}";

    public Exception Fail(string name, string reason) => _fail(FieldName(name), reason);

    public JsonElement? Optional(string name, JsonValueKind kind)
    {
        if (!_element.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != kind)
        {
            throw Fail(name, $"must be {kind.ToString().ToUpperInvariant()}, not {v.ValueKind.ToString().ToUpperInvariant()}");
        }

        return v;
    }

    public string? OptionalString(string name, int maxLength)
    {
        if (Optional(name, JsonValueKind.String) is not { } v)
        {
            return null;
        }

        var s = v.GetString()!;
        if (s.Length > maxLength)
        {
            throw Fail(name, $"longer than {maxLength} characters");
        }

        return s;
    }

    public string RequiredString(string name, int maxLength) =>
        OptionalString(name, maxLength) is { Length: > 0 } s ? s : throw Fail(name, "missing or empty");

    public int? OptionalInt(string name)
    {
        if (Optional(name, JsonValueKind.Number) is not { } v)
        {
            return null;
        }

        return v.TryGetInt32(out var i) ? i : throw Fail(name, "not a 32-bit integer");
    }

    public DateTimeOffset? OptionalDate(string name)
    {
        if (Optional(name, JsonValueKind.String) is not { } v)
        {
            return null;
        }

        return v.TryGetDateTimeOffset(out var d) ? d : throw Fail(name, "not an ISO 8601 date and time");
    }

    public SortedDictionary<string, string>? OptionalStringMap(string name, int maxEntries, int maxKey, int maxValue)
    {
        if (Optional(name, JsonValueKind.Object) is not { } obj)
        {
            return null;
        }

        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            if (map.Count >= maxEntries)
            {
                throw Fail(name, $"more than {maxEntries} entries");
            }

            if (p.Name.Length is 0 || p.Name.Length > maxKey)
            {
                throw Fail(name, $"a key is empty or longer than {maxKey} characters");
            }

            if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString()!.Length > maxValue)
            {
                throw Fail($"{name}.{p.Name}", $"must be a string of at most {maxValue} characters");
            }

            if (!map.TryAdd(p.Name, p.Value.GetString()!))
            {
                throw Fail($"{name}.{p.Name}", "listed twice");
            }
        }

        return map;
    }

    public List<string> StringList(string name, int maxEntries, Func<string, bool> valid, string what)
    {
        var list = new List<string>();
        if (Optional(name, JsonValueKind.Array) is not { } arr)
        {
            return list;
        }

        if (arr.GetArrayLength() > maxEntries)
        {
            throw Fail(name, $"more than {maxEntries} entries");
        }

        var i = 0;
        foreach (var item in arr.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { } s || !valid(s))
            {
                throw Fail($"{name}[{i}]", $"must be {what}");
            }

            list.Add(s);
            i++;
        }

        return list;
    }
}
