using System.Buffers;
using System.Text;
using System.Text.Json;
using TrustPool.Attestation.Baselines;

namespace TrustPool.Attestation.Pools;

/// <summary>
/// The JSON form of a pool:
/// <c>{"name":"eu","version":1,"require":{"platform":["p1","p2"],"os":[],"software":[],"hostUnique":[],"tags":{"country":"DE"}}}</c>.
/// <see cref="Parse"/> throws only <see cref="PoolFormatException"/> naming the field; it refuses a pool that requires
/// no platform, os or host-unique baseline. <see cref="ParseStored"/> reads a document the store already holds (which
/// may predate that rule; the evaluator never trusts such a pool).
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

    /// <summary>A new pool document (API, CLI): every rule, including that it requires a measurement of what booted.</summary>
    /// <exception cref="PoolFormatException">Anything invalid, with the field.</exception>
    public static Pool Parse(string json) => ParseCore(json, requireMeasurement: true);

    /// <summary>
    /// A pool document read back from the store. A pool stored before pools had to require a measurement still loads
    /// (so listing and evaluation keep working) and is judged untrusted with <c>PoolRequiresNoMeasurement</c>.
    /// </summary>
    /// <exception cref="PoolFormatException">Anything else invalid, with the field.</exception>
    public static Pool ParseStored(string json) => ParseCore(json, requireMeasurement: false);

    private static Pool ParseCore(string json, bool requireMeasurement)
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

            if (requireMeasurement && !require.RequiresMeasurement)
            {
                // Issue 13, hole 4: tags are operator data and never attested; software (IMA) rules say nothing about the
                // firmware or boot chain. Without a PCR baseline such a pool would trust a host whatever it booted.
                throw new PoolFormatException("require",
                    "a pool must require at least one platform, os or hostUnique baseline (evidence of what booted): tags are asserted by an operator, never attested, and software rules do not cover the boot chain");
            }

            return new Pool(name, require) { Version = version };
        }
    }
}
