using System.Globalization;
using System.Text;

namespace TrustPool.Evidence.Ima;

/// <summary>The two list formats the kernel exposes in securityfs.</summary>
public enum ImaLogFormat
{
    /// <summary>ascii_runtime_measurements: "PCR template-hash template-name fields...".</summary>
    Ascii,

    /// <summary>binary_runtime_measurements: little-endian records (on x86; the canonical format is little-endian too).</summary>
    Binary,
}

/// <summary>
/// A Linux IMA measurement list (templates ima, ima-ng, ima-sig, ima-buf). A binary list may end in a
/// partial record (the list grows while it is read); that tail is not an entry and is reported in
/// <see cref="TrailingBytes"/>. Anything else malformed throws <see cref="EventLogFormatException"/>.
/// </summary>
public sealed class ImaLog
{
    /// <summary>IMA measures into a TPM PCR (CONFIG_IMA_MEASURE_PCR_IDX or a policy's pcr=): 0..31 at most.</summary>
    private const uint MaxPcrIndex = 32;

    /// <summary>TCG_EVENT_NAME_LEN_MAX in the kernel (template names and legacy file names).</summary>
    public const int MaxTemplateNameLength = 255;

    private ImaLog(ImaLogFormat format, IReadOnlyList<ImaEntry> entries, int trailing)
    {
        Format = format;
        Entries = entries;
        TrailingBytes = trailing;
    }

    public ImaLogFormat Format { get; }

    public IReadOnlyList<ImaEntry> Entries { get; }

    /// <summary>Bytes after the last complete binary record (a partial record or a newline).</summary>
    public int TrailingBytes { get; }

    /// <summary>Detects the format (an ASCII list starts with a decimal PCR index) and parses.</summary>
    public static ImaLog Parse(ReadOnlySpan<byte> bytes)
    {
        var trimmed = bytes.TrimStart("\r\n \t"u8);
        if (bytes.StartsWith("\uFEFF"u8))
        {
            return ParseAscii(bytes[3..]); // a UTF-8 byte order mark (a list saved by an editor): text, not binary
        }

        return trimmed.IsEmpty || char.IsAsciiDigit((char)trimmed[0]) ? ParseAscii(bytes) : ParseBinary(bytes);
    }

    public static ImaLog ParseBinary(ReadOnlySpan<byte> bytes)
    {
        var r = new EventLogReader(bytes);
        var entries = new List<ImaEntry>();
        while (!r.IsEmpty)
        {
            var start = r.Offset;
            var startRemaining = r.Remaining;
            if (!TryReadBinaryEntry(ref r, entries.Count, out var entry))
            {
                return new ImaLog(ImaLogFormat.Binary, entries, startRemaining);
            }

            _ = start;
            entries.Add(entry!);
        }

        return new ImaLog(ImaLogFormat.Binary, entries, 0);
    }

    /// <summary>Reads one record; false when the bytes end inside it (a partial tail).</summary>
    private static bool TryReadBinaryEntry(ref EventLogReader r, int index, out ImaEntry? entry)
    {
        entry = null;
        var start = r.Offset;
        if (r.Remaining < 28)
        {
            return false;
        }

        var pcrOffset = r.Offset;
        var pcr = r.ReadUInt32("ima.pcr");
        if (pcr >= MaxPcrIndex)
        {
            throw new EventLogFormatException("ima.pcr", pcrOffset, $"PCR index {pcr} is not a TPM PCR (0..{MaxPcrIndex - 1})");
        }

        var hash = r.ReadBytes(20, "ima.template_hash").ToArray();
        var nameLenOffset = r.Offset;
        var nameLen = r.ReadUInt32("ima.template_name_len");
        if (nameLen is 0 or > MaxTemplateNameLength)
        {
            throw new EventLogFormatException("ima.template_name_len", nameLenOffset, $"template name length {nameLen} is outside 1-{MaxTemplateNameLength}");
        }

        if (nameLen > r.Remaining)
        {
            return false;
        }

        var nameBytes = r.ReadBytes(nameLen, "ima.template_name");
        foreach (var b in nameBytes)
        {
            if (b is < 0x21 or > 0x7E)
            {
                throw new EventLogFormatException("ima.template_name", nameLenOffset + 4, "template name is not printable ASCII");
            }
        }

        var name = Encoding.ASCII.GetString(nameBytes);
        if (name == "ima")
        {
            // Legacy template in the binary list: digest[20], u32 name length, name (no NUL).
            if (r.Remaining < 24)
            {
                return false;
            }

            var digest = r.ReadBytes(20, "ima.d").ToArray();
            var fileLenOffset = r.Offset;
            var fileLen = r.ReadUInt32("ima.n.len");
            if (fileLen > MaxTemplateNameLength)
            {
                throw new EventLogFormatException("ima.n.len", fileLenOffset, $"file name length {fileLen} exceeds {MaxTemplateNameLength}");
            }

            if (fileLen > r.Remaining)
            {
                return false;
            }

            var file = Encoding.UTF8.GetString(r.ReadBytes(fileLen, "ima.n"));
            entry = new ImaEntry(index, index + 1, start, pcr, hash, name, [.. digest, .. BitConverter.GetBytes(fileLen), .. Encoding.UTF8.GetBytes(file)],
                null, digest, file, null, null);
            return true;
        }

        if (r.Remaining < 4)
        {
            return false;
        }

        var dataLen = r.ReadUInt32("ima.template_data_len");
        if (dataLen > r.Remaining)
        {
            return false;
        }

        var dataOffset = r.Offset;
        var data = r.ReadBytes(dataLen, "ima.template_data");
        entry = FromTemplateData(index, index + 1, start, pcr, hash, name, data, dataOffset);
        return true;
    }

    private static ImaEntry FromTemplateData(int index, int line, long start, uint pcr, byte[] hash, string name, ReadOnlySpan<byte> data, long dataOffset)
    {
        // The name is not covered by the template hash: it is believed only when the data is exactly that template.
        if (ImaTemplates.FieldCount(name) is not { } expected)
        {
            throw new EventLogFormatException(ImaTemplates.NameField, start + 28, $"template '{Trim(name)}' is not one TrustPool can appraise ({string.Join(", ", ImaTemplates.Known.Keys)})");
        }

        var f = new EventLogReader(data, dataOffset);
        var fields = new List<byte[]>();
        while (!f.IsEmpty)
        {
            if (fields.Count == expected)
            {
                throw new EventLogFormatException(ImaTemplates.LayoutField, f.Offset, $"template {name} ({ImaTemplates.Known[name]}) has exactly {expected} fields; the data holds more");
            }

            var len = f.ReadUInt32("ima.field.len");
            fields.Add(f.ReadBytes(len, "ima.field.data").ToArray());
        }

        if (fields.Count != expected)
        {
            throw new EventLogFormatException(ImaTemplates.LayoutField, dataOffset, $"template {name} ({ImaTemplates.Known[name]}) has exactly {expected} fields, the data holds {fields.Count}");
        }

        var (alg, digest) = SplitDigestField(fields[0], dataOffset);
        var nameField = fields[1];
        if (nameField.Length == 0 || nameField[^1] != 0 || nameField.AsSpan(0, nameField.Length - 1).IndexOf((byte)0) >= 0)
        {
            throw new EventLogFormatException(ImaTemplates.LayoutField, dataOffset + 4 + fields[0].Length, "n-ng field is not one NUL-terminated name");
        }

        var path = Encoding.UTF8.GetString(nameField.AsSpan(0, nameField.Length - 1));
        byte[]? sig = name is "ima-sig" or "ima-modsig" ? fields[2] : null;
        byte[]? buf = name == "ima-buf" ? fields[2] : null;
        var entry = new ImaEntry(index, line, start, pcr, hash, name, data.ToArray(), alg, digest, path, sig, buf);
        ImaTemplates.CheckContents(entry, ImaTemplates.LayoutField, dataOffset);
        return entry;
    }

    private static (string Algorithm, byte[] Digest) SplitDigestField(byte[] field, long offset)
    {
        // d-ng: "<algo>:\0<digest>" (kernel ima_eventdigest_init_common writes the prefix for every algorithm, sha1 too).
        var colon = field.AsSpan().IndexOf((byte)':');
        if (colon > 0 && colon + 1 < field.Length && field[colon + 1] == 0)
        {
            return (Encoding.ASCII.GetString(field, 0, colon), field[(colon + 2)..]);
        }

        throw new EventLogFormatException(ImaTemplates.LayoutField, offset, "d-ng field has no \"algo:\\0\" prefix");
    }

    public static ImaLog ParseAscii(ReadOnlySpan<byte> bytes)
    {
        var entries = new List<ImaEntry>();
        var lineNumber = 0;
        long offset = 0;
        while (!bytes.IsEmpty)
        {
            lineNumber++;
            var nl = bytes.IndexOf((byte)'\n');
            var line = nl < 0 ? bytes : bytes[..nl];
            var consumed = nl < 0 ? bytes.Length : nl + 1;
            if (!line.IsEmpty && line[^1] == '\r')
            {
                line = line[..^1];
            }

            if (!line.Trim((byte)' ').IsEmpty)
            {
                entries.Add(ParseLine(Encoding.UTF8.GetString(line), entries.Count, lineNumber, offset));
            }

            bytes = bytes[consumed..];
            offset += consumed;
        }

        return new ImaLog(ImaLogFormat.Ascii, entries, 0);
    }

    private static ImaEntry ParseLine(string line, int index, int lineNumber, long offset)
    {
        string Field(string f) => $"line {lineNumber}: {f}";
        var parts = line.Split(' ', 4);
        if (parts.Length < 4)
        {
            throw new EventLogFormatException(Field("entry"), offset, "fewer than 4 space-separated fields");
        }

        if (!uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pcr) || pcr >= MaxPcrIndex)
        {
            throw new EventLogFormatException(Field("pcr"), offset, $"PCR index '{Trim(parts[0])}' is not a TPM PCR (0..{MaxPcrIndex - 1})");
        }

        if (!Hex.TryParse(parts[1], out var hash) || hash.Length is not (20 or 32 or 48 or 64))
        {
            throw new EventLogFormatException(Field("template-hash"), offset, "template hash is not 20-64 bytes of hex");
        }

        var template = parts[2];
        if (template is not ("ima" or "ima-ng" or "ima-sig" or "ima-buf"))
        {
            throw new EventLogFormatException(Field("template-name"), offset, $"template '{Trim(template)}' is not supported in ASCII lists");
        }

        var rest = parts[3];
        var firstSpace = rest.IndexOf(' ', StringComparison.Ordinal);
        if (firstSpace < 0)
        {
            throw new EventLogFormatException(Field("path"), offset, "no file name after the digest");
        }

        var digestText = rest[..firstSpace];
        var tail = rest[(firstSpace + 1)..];
        string? alg = null;
        if (template != "ima")
        {
            var colon = digestText.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new EventLogFormatException(Field("digest"), offset, $"digest '{Trim(digestText)}' has no algorithm prefix");
            }

            alg = digestText[..colon];
            digestText = digestText[(colon + 1)..];
        }

        if (!Hex.TryParse(digestText, out var digest) || digest.Length == 0)
        {
            throw new EventLogFormatException(Field("digest"), offset, "file digest is not hex");
        }

        switch (template)
        {
            case "ima":
                if (digest.Length != 20)
                {
                    throw new EventLogFormatException(Field("digest"), offset, "the ima template carries a 20-byte SHA-1 digest");
                }

                return new ImaEntry(index, lineNumber, offset, pcr, hash, template, ImaEntry.BuildTemplateData(null, digest, tail, null, null, template),
                    null, digest, tail, null, null);
            case "ima-ng":
                return Checked(Make(tail, null, null));
            case "ima-sig" or "ima-buf":
                return Checked(SigOrBuf());
            default:
                throw new EventLogFormatException(Field("template-name"), offset, $"template '{Trim(template)}' is not supported in ASCII lists");
        }

        // The ASCII name is as unbound as the binary one: the fields it implies must hold what that template holds.
        ImaEntry Checked(ImaEntry e)
        {
            ImaTemplates.CheckContents(e, Field("template-layout"), offset);
            return e;
        }

        ImaEntry SigOrBuf()
        {
            // "<path> <hex>": a path may hold spaces, so try the last token as the signature/buffer and
            // keep the reading whose template hash checks; an ima-sig line without signature ends in ' '.
            var lastSpace = tail.LastIndexOf(' ');
            ImaEntry? withField = null;
            if (lastSpace >= 0 && Hex.TryParse(tail.AsSpan(lastSpace + 1), out var extra))
            {
                var path = tail[..lastSpace];
                withField = template == "ima-sig" ? Make(path, extra, null) : Make(path, null, extra);
                if (withField.IsViolation || withField.TemplateHashMatches())
                {
                    return withField;
                }
            }

            if (template == "ima-sig")
            {
                var noSig = Make(tail, [], null);
                if (withField is null || noSig.TemplateHashMatches())
                {
                    return noSig;
                }
            }

            return withField ?? throw new EventLogFormatException(Field("buf"), offset, "ima-buf line has no hex buffer");
        }

        ImaEntry Make(string path, byte[]? sig, byte[]? buf) =>
            new(index, lineNumber, offset, pcr, hash, template, ImaEntry.BuildTemplateData(alg, digest, path, sig, buf, template), alg, digest, path, sig, buf);
    }

    private static string Trim(string s) => s.Length > 40 ? s[..40] + "..." : s;

    /// <summary>File path to digest ("algo:hex") for the software baseline; later entries win, violations and ima-buf are left out.</summary>
    public IReadOnlyDictionary<string, string> FileDigests()
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in Entries)
        {
            if (!e.IsViolation && e.Buffer is null)
            {
                map[e.Path] = $"{e.FileDigestAlgorithm ?? "sha1"}:{Hex.Lower(e.FileDigest)}";
            }
        }

        return map;
    }
}
