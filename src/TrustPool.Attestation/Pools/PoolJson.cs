using System.Buffers;
using System.Text;
using System.Text.Json;
using TrustPool.Attestation.Baselines;

namespace TrustPool.Attestation.Pools;

/// <summary>
/// The JSON form of a pool:
/// <c>{"name":"eu","version":1,"require":{"platform":["p1","p2"],"os":[],"software":[],"hostUnique":[],"tags":{"country":"DE"}}}</c>.
/// <see cref="Parse"/> throws only <see cref="PoolFormatException"/> naming the field.
/// </summary>
public static class PoolJson
{
    public const int MaxDocumentChars = 64 * 1024;
    public const int MaxBaselinesPerKind = 64;
    public const int MaxTags = 64;

    public static string Serialize(Pool p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteNumber("version", p.Version);
            w.WriteStartObject("require");
            WriteList(w, "platform", p.Require.Platform);
            WriteList(w, "os", p.Require.Os);
            WriteList(w, "software", p.Require.Software);
            WriteList(w, "hostUnique", p.Require.HostUnique);
            w.WriteStartObject("tags");
            foreach (var (k, v) in p.Require.Tags.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteString(k, v);
            }

            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteList(Utf8JsonWriter w, string name, IReadOnlyList<string> items)
    {
        w.WriteStartArray(name);
        foreach (var s in items)
        {
            w.WriteStringValue(s);
        }

        w.WriteEndArray();
    }

    /// <exception cref="PoolFormatException">Anything invalid, with the field.</exception>
    public static Pool Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxDocumentChars)
        {
            throw new PoolFormatException("document", $"{json.Length} characters exceeds {MaxDocumentChars}");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new PoolFormatException("not JSON: " + e.Message, e);
        }

        using (doc)
        {
            static Exception Fail(string f, string m) => new PoolFormatException(f, m);
            var r = new JsonFields(doc.RootElement, "pool", Fail);
            var name = r.RequiredString("name", 64);
            if (!BaselineJson.IsValidName(name))
            {
                throw new PoolFormatException("name", $"'{name}' is not [A-Za-z0-9._-]{{1,64}}");
            }

            var version = r.OptionalInt("version") ?? 1;
            if (version < 1)
            {
                throw new PoolFormatException("version", "must be 1 or more");
            }

            var requireElement = r.Optional("require", JsonValueKind.Object) ?? throw new PoolFormatException("require", "missing");
            var q = new JsonFields(requireElement, "require", Fail);
            const string what = "a baseline name [A-Za-z0-9._-]{1,64}";
            var require = new PoolRequirement
            {
                Platform = q.StringList("platform", MaxBaselinesPerKind, BaselineJson.IsValidName, what),
                Os = q.StringList("os", MaxBaselinesPerKind, BaselineJson.IsValidName, what),
                Software = q.StringList("software", MaxBaselinesPerKind, BaselineJson.IsValidName, what),
                HostUnique = q.StringList("hostUnique", MaxBaselinesPerKind, BaselineJson.IsValidName, what),
                Tags = q.OptionalStringMap("tags", MaxTags, 64, 256) ?? new SortedDictionary<string, string>(StringComparer.Ordinal),
            };
            if (require.IsEmpty)
            {
                throw new PoolFormatException("require", "a pool must require at least one baseline or tag");
            }

            return new Pool(name, require) { Version = version };
        }
    }
}
