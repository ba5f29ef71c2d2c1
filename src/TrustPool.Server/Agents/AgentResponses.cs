using System.Globalization;
using System.Text.Json;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Agents;

/// <summary>
/// Parses Agent API answers (ARCHITECTURE.md "Agent API"). The bytes come from the network and are untrusted: every
/// field is checked for its JSON type, base64, range and size, and a failure names the field.
/// </summary>
internal static class AgentResponses
{
    /// <summary>Agent API PCR indices (PC Client: 24 PCRs).</summary>
    public const int MaxPcrIndex = 23;

    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 16, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    public static JsonDocument ParseObject(ReadOnlyMemory<byte> body)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, s_options);
        }
        catch (JsonException e)
        {
            throw AgentException.Protocol("body", $"not JSON ({e.Message})", e);
        }

        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = doc.RootElement.ValueKind;
            doc.Dispose();
            throw AgentException.Protocol("body", $"not a JSON object but {kind}");
        }

        return doc;
    }

    public static AgentIdentity Identity(JsonElement root)
    {
        string? manufacturer = null, firmware = null;
        if (root.TryGetProperty("tpm", out var tpm) && tpm.ValueKind != JsonValueKind.Null)
        {
            if (tpm.ValueKind != JsonValueKind.Object)
            {
                throw AgentException.Protocol("tpm", $"'tpm' must be an object, not {tpm.ValueKind}");
            }

            manufacturer = OptionalString(tpm, "manufacturer", "tpm.manufacturer");
            firmware = OptionalString(tpm, "firmwareVersion", "tpm.firmwareVersion");
        }

        var fingerprint = RequiredString(root, "tlsFingerprint", "tlsFingerprint");
        if (!IsSha256Hex(fingerprint))
        {
            throw AgentException.Protocol("tlsFingerprint", "'tlsFingerprint' is not 64 hex digits");
        }

        var banks = new List<string>();
        if (!root.TryGetProperty("banks", out var b) || b.ValueKind != JsonValueKind.Array)
        {
            throw AgentException.Protocol("banks", "'banks' must be an array of bank names");
        }

        foreach (var item in b.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !TpmHash.TryParseName(item.GetString()!, out _))
            {
                throw AgentException.Protocol("banks", $"'banks' holds {Describe(item)}, not a bank name");
            }

            banks.Add(item.GetString()!);
        }

        return new AgentIdentity(
            RequiredBase64(root, "ekPublic"),
            OptionalBase64(root, "ekCertificate"),
            RequiredBase64(root, "akPublic"),
            RequiredBase64(root, "akName"),
            fingerprint.ToLowerInvariant(),
            RequiredString(root, "hostname", "hostname"),
            manufacturer,
            firmware,
            banks);
    }

    public static byte[] Secret(JsonElement root) => RequiredBase64(root, "secret");

    public static AgentQuote Quote(JsonElement root, PcrSelection selection)
    {
        var quote = RequiredBase64(root, "quote");
        var signature = RequiredBase64(root, "signature");
        var pcrs = Pcrs(root);
        foreach (var bank in selection)
        {
            foreach (var i in bank.Indices)
            {
                if (!pcrs.TryGet(bank.Hash, i, out _))
                {
                    var field = $"pcrs.{TpmHash.Name(bank.Hash)}.{i.ToString(CultureInfo.InvariantCulture)}";
                    throw AgentException.Protocol(field, $"'{field}' was asked for and is missing");
                }
            }
        }

        long? next = null;
        if (root.TryGetProperty("imaNextOffset", out var n) && n.ValueKind != JsonValueKind.Null)
        {
            if (n.ValueKind != JsonValueKind.Number || !n.TryGetInt64(out var v) || v < 0)
            {
                throw AgentException.Protocol("imaNextOffset", $"'imaNextOffset' is {Describe(n)}, not an entry number >= 0");
            }

            next = v;
        }

        return new AgentQuote(quote, signature, pcrs, OptionalBase64(root, "uefiLog"), OptionalBase64(root, "imaLog"), next);
    }

    /// <summary><c>pcrs: {bank: {index: hex}}</c>: known banks, indices 0..23, hex of the bank's digest size.</summary>
    public static PcrValues Pcrs(JsonElement root)
    {
        if (!root.TryGetProperty("pcrs", out var p) || p.ValueKind != JsonValueKind.Object)
        {
            throw AgentException.Protocol("pcrs", "'pcrs' must be an object {bank: {index: hex}}");
        }

        var values = new PcrValues();
        foreach (var bank in p.EnumerateObject())
        {
            var bankField = "pcrs." + Truncate(bank.Name);
            if (!TpmHash.TryParseName(bank.Name, out var alg) || TpmHash.DigestSize(alg) == 0)
            {
                throw AgentException.Protocol(bankField, $"'{bankField}' is not a PCR bank name");
            }

            if (bank.Value.ValueKind != JsonValueKind.Object)
            {
                throw AgentException.Protocol(bankField, $"'{bankField}' must be an object {{index: hex}}");
            }

            var size = TpmHash.DigestSize(alg);
            foreach (var pcr in bank.Value.EnumerateObject())
            {
                var field = bankField + "." + Truncate(pcr.Name);
                var index = pcr.Name.Length is 0 or > 2 || !pcr.Name.All(char.IsAsciiDigit) || (pcr.Name.Length == 2 && pcr.Name[0] == '0')
                    ? -1
                    : int.Parse(pcr.Name, NumberStyles.None, CultureInfo.InvariantCulture);
                if (index is < 0 or > MaxPcrIndex)
                {
                    throw AgentException.Protocol(field, $"'{field}': not a PCR index 0..{MaxPcrIndex}");
                }

                if (pcr.Value.ValueKind != JsonValueKind.String || pcr.Value.GetString() is not { } hex || hex.Length != 2 * size ||
                    !hex.All(char.IsAsciiHexDigit))
                {
                    throw AgentException.Protocol(field, $"'{field}' is not {size} bytes of hex");
                }

                if (values.TryGet(alg, index, out _))
                {
                    throw AgentException.Protocol(field, $"'{field}' appears twice");
                }

                values.Set(alg, index, Convert.FromHexString(hex));
            }
        }

        return values;
    }

    /// <summary>The <c>type</c> and <c>field</c> of an <c>application/problem+json</c> body, when it is one.</summary>
    public static (string? Type, string? Field) Problem(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body, s_options);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            var type = doc.RootElement.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? Truncate(t.GetString()!, 200) : null;
            var field = doc.RootElement.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? Truncate(f.GetString()!, 200) : null;
            return (type, field);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    public static bool IsSha256Hex(string s) => s.Length == 64 && s.All(char.IsAsciiHexDigit);

    private static byte[] RequiredBase64(JsonElement root, string name) =>
        OptionalBase64(root, name) ?? throw AgentException.Protocol(name, $"'{name}' is required");

    private static byte[]? OptionalBase64(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (e.ValueKind != JsonValueKind.String || !e.TryGetBytesFromBase64(out var bytes))
        {
            throw AgentException.Protocol(name, $"'{name}' is {Describe(e)}, not base64");
        }

        return bytes;
    }

    private static string RequiredString(JsonElement root, string name, string field) =>
        OptionalString(root, name, field) ?? throw AgentException.Protocol(field, $"'{field}' is required");

    private static string? OptionalString(JsonElement root, string name, string field)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (e.ValueKind != JsonValueKind.String)
        {
            throw AgentException.Protocol(field, $"'{field}' must be a string, not {e.ValueKind}");
        }

        return e.GetString();
    }

    /// <summary>The JSON kind only: values from the network are not echoed into messages.</summary>
    private static string Describe(JsonElement e) => e.ValueKind == JsonValueKind.String ? "a string" : e.ValueKind.ToString();

    private static string Truncate(string s, int max = 32) => s.Length <= max ? s : s[..max] + "...";
}
