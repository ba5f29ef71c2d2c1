using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TrustPool.Evidence;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Baselines;

/// <summary>
/// The JSON form of a baseline. <see cref="Serialize"/> is canonical (fixed property order, PCRs sorted by bank and
/// index, maps sorted by key, no whitespace) so <see cref="Digest"/> identifies the content. <see cref="Parse"/>
/// checks everything and throws only <see cref="BaselineFormatException"/> naming the field.
/// </summary>
public static class BaselineJson
{
    /// <summary>Largest document accepted (characters): a reference UEFI log of a large server is ~100 KiB, an IMA allowlist a few MiB.</summary>
    public const int MaxDocumentChars = 16 * 1024 * 1024;

    public const int MaxPcrs = 256;
    public const int MaxFacts = 64;
    public const int MaxAllowlistPaths = 200_000;
    public const int MaxDigestsPerPath = 64;
    public const int MaxTags = 64;
    public const int MaxTextLength = 4096;
    public const int MaxReferenceLogBytes = 4 * 1024 * 1024;

    public static bool IsValidName(string? name) =>
        name is { Length: >= 1 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    public static string Serialize(Baseline b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            Write(w, b);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>sha256 (lower-case hex) of the canonical serialization.</summary>
    public static string Digest(Baseline b) => Hex.Lower(SHA256.HashData(Encoding.UTF8.GetBytes(Serialize(b))));

    internal static void Write(Utf8JsonWriter w, Baseline b)
    {
        w.WriteStartObject();
        w.WriteString("name", b.Name);
        w.WriteString("kind", BaselineKinds.ToJson(b.Kind));
        w.WriteNumber("version", b.Version);
        if (b.Description is not null)
        {
            w.WriteString("description", b.Description);
        }

        if (b.FromHost is not null)
        {
            w.WriteString("fromHost", b.FromHost);
        }

        w.WriteString("created", b.Created);
        w.WriteStartArray("pcrs");
        foreach (var p in b.Pcrs.OrderBy(p => p.Bank, StringComparer.Ordinal).ThenBy(p => p.Index))
        {
            w.WriteStartObject();
            w.WriteString("bank", p.Bank);
            w.WriteNumber("index", p.Index);
            w.WriteString("value", p.Value);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (b.ReferenceUefiLog is not null)
        {
            w.WriteBase64String("referenceUefiLog", b.ReferenceUefiLog);
        }

        w.WriteStartObject("facts");
        foreach (var (k, v) in b.Facts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteString(k, v);
        }

        w.WriteEndObject();
        if (b.ImaAllowlist is not null)
        {
            w.WriteStartObject("imaAllowlist");
            foreach (var (path, digests) in b.ImaAllowlist.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteStartArray(path);
                foreach (var d in digests.Order(StringComparer.Ordinal))
                {
                    w.WriteStringValue(d);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        if (b.Tags is not null)
        {
            w.WriteStartObject("tags");
            foreach (var (k, v) in b.Tags.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteString(k, v);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    /// <exception cref="BaselineFormatException">Anything invalid, with the field.</exception>
    public static Baseline Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxDocumentChars)
        {
            throw new BaselineFormatException("document", $"{json.Length} characters exceeds {MaxDocumentChars}");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new BaselineFormatException("document", "not JSON: " + e.Message, e);
        }

        using (doc)
        {
            return Read(doc.RootElement);
        }
    }

    internal static Baseline Read(JsonElement root)
    {
        var r = new JsonFields(root, "baseline", (f, m) => new BaselineFormatException(f, m));
        var name = r.RequiredString("name", 64);
        if (!IsValidName(name))
        {
            throw new BaselineFormatException("name", $"'{name}' is not [A-Za-z0-9._-]{{1,64}}");
        }

        var kindText = r.RequiredString("kind", 32);
        if (!BaselineKinds.TryParse(kindText, out var kind))
        {
            throw new BaselineFormatException("kind", $"'{kindText}' is not platform, os, host-unique, software or asset-tag");
        }

        var version = r.OptionalInt("version") ?? 1;
        if (version < 1)
        {
            throw new BaselineFormatException("version", "must be 1 or more");
        }

        var created = r.OptionalDate("created") ?? default;
        var pcrs = new List<ExpectedPcr>();
        var seen = new HashSet<(TpmAlgorithmId, int)>();
        if (r.Optional("pcrs", JsonValueKind.Array) is { } pcrArray)
        {
            if (pcrArray.GetArrayLength() > MaxPcrs)
            {
                throw new BaselineFormatException("pcrs", $"more than {MaxPcrs} entries");
            }

            var i = 0;
            foreach (var item in pcrArray.EnumerateArray())
            {
                var at = $"pcrs[{i++}]";
                var pr = new JsonFields(item, at, (f, m) => new BaselineFormatException(f, m));
                var bankText = pr.RequiredString("bank", 16);
                if (!TpmHash.TryParseName(bankText, out var bank) || !TpmHash.IsSupported(bank))
                {
                    throw new BaselineFormatException(at + ".bank", $"'{bankText}' is not a PCR bank (sha1, sha256, sha384, sha512)");
                }

                var index = pr.OptionalInt("index") ?? throw new BaselineFormatException(at + ".index", "missing");
                if (index is < 0 or > 23)
                {
                    throw new BaselineFormatException(at + ".index", $"{index} is not a PCR index 0..23");
                }

                var valueText = pr.RequiredString("value", 2 * TpmLimits.MaxDigestSize + 2);
                if (!Hex.TryParse(valueText, out var value))
                {
                    throw new BaselineFormatException(at + ".value", "not hex");
                }

                if (value.Length != TpmHash.DigestSize(bank))
                {
                    throw new BaselineFormatException(at + ".value", $"{value.Length} bytes, a {TpmHash.Name(bank)} digest has {TpmHash.DigestSize(bank)}");
                }

                if (!seen.Add((bank, index)))
                {
                    throw new BaselineFormatException(at, $"PCR {TpmHash.Name(bank)}:{index} is listed twice");
                }

                pcrs.Add(new ExpectedPcr(TpmHash.Name(bank), index, Hex.Lower(value)));
            }
        }

        byte[]? referenceLog = null;
        if (r.OptionalString("referenceUefiLog", MaxReferenceLogBytes / 3 * 4 + 4) is { } b64)
        {
            var bytes = new byte[b64.Length / 4 * 3 + 3];
            if (!Convert.TryFromBase64String(b64, bytes, out var n))
            {
                throw new BaselineFormatException("referenceUefiLog", "not base64");
            }

            referenceLog = bytes[..n];
        }

        var facts = r.OptionalStringMap("facts", MaxFacts, 64, MaxTextLength) ?? new SortedDictionary<string, string>(StringComparer.Ordinal);
        var tags = r.OptionalStringMap("tags", MaxTags, 64, 256);
        SortedDictionary<string, IReadOnlyList<string>>? allow = null;
        if (r.Optional("imaAllowlist", JsonValueKind.Object) is { } allowObject)
        {
            allow = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var prop in allowObject.EnumerateObject())
            {
                var at = $"imaAllowlist[{prop.Name}]";
                if (allow.Count >= MaxAllowlistPaths)
                {
                    throw new BaselineFormatException("imaAllowlist", $"more than {MaxAllowlistPaths} paths");
                }

                if (prop.Name.Length is 0 or > MaxTextLength)
                {
                    throw new BaselineFormatException("imaAllowlist", "a path is empty or too long");
                }

                if (prop.Value.ValueKind != JsonValueKind.Array || prop.Value.GetArrayLength() is 0 or > MaxDigestsPerPath)
                {
                    throw new BaselineFormatException(at, $"must be an array of 1..{MaxDigestsPerPath} hex digests");
                }

                var digests = new List<string>();
                foreach (var d in prop.Value.EnumerateArray())
                {
                    if (d.ValueKind != JsonValueKind.String || d.GetString() is not { Length: <= 2 * TpmLimits.MaxDigestSize } text ||
                        !Hex.TryParse(text, out var digest) || digest.Length is not (16 or 20 or 32 or 48 or 64))
                    {
                        throw new BaselineFormatException(at, "a digest is not 16..64 bytes of hex");
                    }

                    digests.Add(Hex.Lower(digest));
                }

                if (!allow.TryAdd(prop.Name, digests))
                {
                    throw new BaselineFormatException(at, "path listed twice");
                }
            }
        }

        return new Baseline
        {
            Name = name,
            Kind = kind,
            Version = version,
            Description = r.OptionalString("description", MaxTextLength),
            FromHost = r.OptionalString("fromHost", 255),
            Created = created,
            Pcrs = pcrs,
            ReferenceUefiLog = referenceLog,
            Facts = facts,
            ImaAllowlist = allow,
            Tags = tags,
        };
    }
}
