using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Audit.Merkle;

namespace TrustPool.Audit.Records;

/// <summary>
/// The leaf encoding of an <see cref="AuditRecord"/>: the <see cref="CanonicalJson"/> form of
/// <c>{"fields":{...},"schemaVersion":N,"time":"yyyy-MM-ddTHH:mm:ss.fffZ","type":"..."}</c>. The same record always
/// gives the same bytes whatever the order its fields were added in, and <see cref="Decode"/> accepts only bytes
/// that re-encode identically, so a leaf has exactly one textual form.
/// </summary>
public static class AuditRecordEncoding
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>Canonical UTF-8 JSON bytes of <paramref name="record"/>.</summary>
    /// <exception cref="ArgumentException">An invalid type, schema version or field value.</exception>
    public static byte[] Encode(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!IsValidType(record.Type))
        {
            throw new ArgumentException($"'{record.Type}' is not a dotted lower-case record type", nameof(record));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(record.SchemaVersion, 1, nameof(record));
        ArgumentNullException.ThrowIfNull(record.Fields, nameof(record));
        // Members in ordinal key order: fields, schemaVersion, time, type.
        var sb = new StringBuilder("{\"fields\":");
        CanonicalJson.Write(sb, record.Fields);
        sb.Append(",\"schemaVersion\":").Append(record.SchemaVersion.ToString(CultureInfo.InvariantCulture));
        sb.Append(",\"time\":");
        CanonicalJson.Write(sb, JsonValue.Create(record.Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)));
        sb.Append(",\"type\":");
        CanonicalJson.Write(sb, JsonValue.Create(record.Type));
        sb.Append('}');
        return CanonicalJson.ToUtf8(sb);
    }

    /// <summary>Merkle leaf hash: SHA-256(0x00 || <see cref="Encode"/>).</summary>
    public static byte[] LeafHash(AuditRecord record) => MerkleHash.LeafHash(Encode(record));

    /// <summary>Parses canonical bytes back into a record.</summary>
    /// <exception cref="AuditRecordFormatException">Not JSON, not the record shape, or not the canonical form.</exception>
    public static AuditRecord Decode(ReadOnlySpan<byte> bytes)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new AuditRecordFormatException("an audit record is a JSON object");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new AuditRecordFormatException($"not JSON: {e.Message}", e);
        }

        if (root.Count != 4
            || root["type"] is not JsonValue typeNode || !typeNode.TryGetValue<string>(out var type)
            || root["schemaVersion"] is not JsonValue versionNode || versionNode.GetValueKind() != JsonValueKind.Number
            || !int.TryParse(versionNode.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || root["time"] is not JsonValue timeNode || !timeNode.TryGetValue<string>(out var timeText)
            || !DateTime.TryParseExact(timeText, TimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
            || root["fields"] is not JsonObject fields)
        {
            throw new AuditRecordFormatException("an audit record has exactly: type (string), schemaVersion (integer), time (yyyy-MM-ddTHH:mm:ss.fffZ), fields (object)");
        }

        root.Remove("fields");
        AuditRecord record = new(type, version, new DateTimeOffset(time, TimeSpan.Zero), fields);
        byte[] again;
        try
        {
            again = Encode(record);
        }
        catch (ArgumentException e)
        {
            throw new AuditRecordFormatException($"invalid audit record: {e.Message}", e);
        }

        if (!again.AsSpan().SequenceEqual(bytes))
        {
            throw new AuditRecordFormatException("audit record is not in canonical form (key order, whitespace, escaping or number format)");
        }

        return record;
    }

    /// <summary>Lower-case dotted names: <c>host.enrolled</c>, <c>host.reenrollment-required</c>.</summary>
    public static bool IsValidType(string? type)
    {
        if (string.IsNullOrEmpty(type) || type.Length > 100)
        {
            return false;
        }

        var parts = type.Split('.');
        return parts.Length >= 2 && parts.All(p => p.Length > 0 && p[0] is >= 'a' and <= 'z'
            && p.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'));
    }
}
