using TrustPool.Audit.Siem;

namespace TrustPool.Audit.Tests.Siem;

/// <summary>Issue 7, SIEM export: the pure RFC 5424 / CEF line formats (the transport's tests stay in TrustPool.Server.Tests).</summary>
public sealed class SiemFormatsTests
{
    private static IReadOnlyList<KeyValuePair<string, string>> Fields(int i) => [new("host", $"host-{i}"), new("trust", "trusted"), new("note", "a \"quoted\" ] \\ value")];

    [Fact]
    public void Rfc5424_Format_HeaderAndEscapedStructuredData()
    {
        var e = new SiemEvent(42, new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero), "trust.changed", SiemSeverity.Error, "line1\nline2", Fields(1));
        var line = Rfc5424.Format(e, "svc host");
        Assert.StartsWith("<107>1 2026-11-27T12:00:00.000000Z svchost trustpool ", line, StringComparison.Ordinal);
        Assert.Contains(" trust.changed [trustpool@32473 seq=\"42\" type=\"trust.changed\" host=\"host-1\" trust=\"trusted\" note=\"a \\\"quoted\\\" \\] \\\\ value\"] line1 line2", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void Cef_Format_EscapesHeaderAndExtension()
    {
        var e = new SiemEvent(7, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), "trust.changed", SiemSeverity.Error, "a|b", [new("host", "h=1\\x\ny")]);
        Assert.Equal("CEF:0|TrustPool|TrustPool|1.0|trust.changed|a\\|b|8|rt=1700000000000 cn1Label=seq cn1=7 host=h\\=1\\\\x\\ny", Cef.Format(e));
    }
}
