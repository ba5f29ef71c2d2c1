using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrustPool.Attestation.Evaluation;

/// <summary>
/// The JSON form of a trust report: camelCase properties, enums lower-case (<c>"trusted"</c>), times ISO 8601 with
/// offset, null members left out.
/// </summary>
public static class TrustReportJson
{
    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        MaxDepth = 16,
    };

    public static string Serialize(TrustReport r) => JsonSerializer.Serialize(r, Options);

    public static byte[] SerializeToUtf8Bytes(TrustReport r) => JsonSerializer.SerializeToUtf8Bytes(r, Options);

    /// <exception cref="JsonException">Not a trust report.</exception>
    public static TrustReport Parse(string json) =>
        JsonSerializer.Deserialize<TrustReport>(json, Options) ?? throw new JsonException("null is not a trust report");

    /// <exception cref="JsonException">Not a trust report.</exception>
    public static TrustReport Parse(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize<TrustReport>(utf8Json, Options) ?? throw new JsonException("null is not a trust report");
}
