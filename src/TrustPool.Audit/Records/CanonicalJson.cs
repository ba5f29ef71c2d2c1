using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustPool.Audit.Records;

/// <summary>
/// Canonical JSON: object members sorted by key (ordinal, UTF-16 code units), no whitespace, strings escaped only
/// where JSON requires (<c>"</c>, <c>\</c>, control characters; the short forms <c>\b \t \n \f \r</c>, otherwise
/// <c>\u00xx</c> lower-case), everything else as raw UTF-8, integers in plain decimal. With numbers limited to
/// integers of magnitude below 2^53 this is exactly RFC 8785 (JCS) output, so any JCS implementation
/// reproduces the bytes. Fractions and larger integers are rejected: JCS would format them as IEEE doubles.
/// </summary>
public static class CanonicalJson
{
    /// <summary>Largest integer magnitude allowed (2^53 - 1): every such integer is exact as an IEEE double.</summary>
    public const long MaxSafeInteger = (1L << 53) - 1;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The canonical UTF-8 bytes of <paramref name="node"/>.</summary>
    /// <exception cref="ArgumentException">A fractional or too large number, or a lone UTF-16 surrogate.</exception>
    public static byte[] Encode(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return ToUtf8(sb);
    }

    internal static byte[] ToUtf8(StringBuilder sb)
    {
        try
        {
            return s_strictUtf8.GetBytes(sb.ToString());
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("a string contains a lone UTF-16 surrogate", nameof(sb), e);
        }
    }

    internal static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    WriteString(sb, key);
                    sb.Append(':');
                    Write(sb, value);
                }

                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    Write(sb, array[i]);
                }

                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
            default:
                throw new ArgumentException($"unsupported JSON node {node.GetType().Name}", nameof(node));
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.TryGetValue<string>(out var s) ? s : JsonDocumentString(value));
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Number:
                var text = value.ToJsonString();
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                    || n > MaxSafeInteger || n < -MaxSafeInteger)
                {
                    throw new ArgumentException($"number {text} is not an integer of magnitude below 2^53; write it as a string");
                }

                sb.Append(n.ToString(CultureInfo.InvariantCulture));
                break;
            default:
                throw new ArgumentException($"unsupported JSON value kind {value.GetValueKind()}");
        }
    }

    private static string JsonDocumentString(JsonValue value)
    {
        using var doc = JsonDocument.Parse(value.ToJsonString());
        return doc.RootElement.GetString()!;
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case < ' ':
                    sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        sb.Append('"');
    }
}
