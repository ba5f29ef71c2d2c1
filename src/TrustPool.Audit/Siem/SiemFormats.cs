using System.Globalization;
using System.Text;

namespace TrustPool.Audit.Siem;

/// <summary>One event for the SIEM: a sequence number (per service, gap-free, for de-duplication), its type and fields.</summary>
public sealed record SiemEvent(long Sequence, DateTimeOffset Time, string Type, SiemSeverity Severity, string Message, IReadOnlyList<KeyValuePair<string, string>> Fields);

/// <summary>RFC 5424 severities (6.2.1) used by TrustPool.</summary>
public enum SiemSeverity
{
    Critical = 2,
    Error = 3,
    Warning = 4,
    Notice = 5,
    Informational = 6,
}

/// <summary>
/// RFC 5424 syslog lines with one structured-data element <c>[trustpool@32473 seq="…" type="…" …]</c>
/// (32473 is the private enterprise number reserved for documentation, RFC 5612: replace it with your own when
/// your SIEM parses by PEN). Facility 13, "log audit" (RFC 5424 6.2.1).
/// </summary>
public static class Rfc5424
{
    public const int Facility = 13;
    public const string SdId = "trustpool@32473";

    public static string Format(SiemEvent e, string hostname, string appName = "trustpool")
    {
        ArgumentNullException.ThrowIfNull(e);
        var b = new StringBuilder(256);
        b.Append('<').Append((Facility * 8) + (int)e.Severity).Append(">1 ");
        b.Append(e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append(' ');
        b.Append(Token(hostname, 255)).Append(' ').Append(Token(appName, 48)).Append(' ');
        b.Append(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).Append(' ');
        b.Append(Token(e.Type, 32)).Append(' ');
        b.Append('[').Append(SdId);
        Param(b, "seq", e.Sequence.ToString(CultureInfo.InvariantCulture));
        Param(b, "type", e.Type);
        foreach (var (k, v) in e.Fields)
        {
            Param(b, k, v);
        }

        b.Append("] ");
        b.Append(OneLine(e.Message));
        return b.ToString();
    }

    // RFC 5424 6.3.3: inside PARAM-VALUE, '"', '\' and ']' are escaped with '\'.
    private static void Param(StringBuilder b, string name, string value)
    {
        b.Append(' ').Append(ParamName(name)).Append("=\"");
        foreach (var c in OneLine(value))
        {
            if (c is '"' or '\\' or ']')
            {
                b.Append('\\');
            }

            b.Append(c);
        }

        b.Append('"');
    }

    // SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']', '"'.
    private static string ParamName(string name)
    {
        var s = new string([.. name.Where(c => c > 32 && c < 127 && c is not ('=' or ']' or '"'))]);
        return s.Length == 0 ? "field" : s.Length > 32 ? s[..32] : s;
    }

    // HOSTNAME, APP-NAME, MSGID: PRINTUSASCII without spaces, bounded, "-" when empty.
    private static string Token(string s, int max)
    {
        var t = new string([.. s.Where(c => c > 32 && c < 127)]);
        return t.Length == 0 ? "-" : t.Length > max ? t[..max] : t;
    }

    /// <summary>Newline framing (RFC 6587 3.4.2): a record never contains a line break.</summary>
    internal static string OneLine(string s) => s.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}

/// <summary>
/// ArcSight Common Event Format lines: <c>CEF:0|TrustPool|TrustPool|VERSION|TYPE|MESSAGE|SEVERITY|ext</c>, with
/// header '|' and '\' escaped, extension '=' and '\' escaped, line breaks as <c>\n</c>.
/// </summary>
public static class Cef
{
    public static string Format(SiemEvent e, string version = "1.0")
    {
        ArgumentNullException.ThrowIfNull(e);
        var severity = e.Severity switch
        {
            SiemSeverity.Critical => 10,
            SiemSeverity.Error => 8,
            SiemSeverity.Warning => 6,
            SiemSeverity.Notice => 4,
            _ => 2,
        };
        var b = new StringBuilder(256);
        b.Append("CEF:0|TrustPool|TrustPool|").Append(Header(version)).Append('|').Append(Header(e.Type)).Append('|')
            .Append(Header(e.Message)).Append('|').Append(severity.ToString(CultureInfo.InvariantCulture)).Append('|');
        b.Append("rt=").Append(e.Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        b.Append(" cn1Label=seq cn1=").Append(e.Sequence.ToString(CultureInfo.InvariantCulture));
        foreach (var (k, v) in e.Fields)
        {
            b.Append(' ').Append(new string([.. k.Where(char.IsAsciiLetterOrDigit)])).Append('=').Append(Extension(v));
        }

        return b.ToString();
    }

    private static string Header(string s) => Rfc5424.OneLine(s).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal);

    private static string Extension(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal)
        .Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
