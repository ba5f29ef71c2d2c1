using System.Security.Cryptography;
using System.Text;
using TrustPool.Evidence.Ima;

namespace TrustPool.Evidence.Tests.Ima;

public class ImaAsciiTests
{
    /// <summary>An ASCII line whose template hash is right for the given fields (as the kernel would print it).</summary>
    private static string Line(string template, string path, byte[]? extra)
    {
        // ima-buf: the kernel's digest is the hash of the buffer itself.
        var digest = SHA256.HashData(template == "ima-buf" ? extra! : Encoding.UTF8.GetBytes(path));
        var data = ImaEntry.BuildTemplateData("sha256", digest, path, template == "ima-sig" ? extra : null, template == "ima-buf" ? extra : null, template);
        var hash = Hex.Lower(SHA1.HashData(data));
        var tail = extra is null ? "" : " " + Hex.Lower(extra);
        return $"10 {hash} {template} sha256:{Hex.Lower(digest)} {path}{tail}";
    }

    [Theory]
    [InlineData("ima-sig", "/usr/bin/with space", "030204aabbccdd")]
    [InlineData("ima-sig", "/opt/app beef", "030204aabbccdd")]
    [InlineData("ima-sig", "/opt/app beef", "")]
    [InlineData("ima-buf", "kexec-cmdline", "726f6f743d2f6465762f736461")]
    [InlineData("ima-ng", "/tmp/a b c", null)]
    public void ParseAscii_PathWithSpacesOrHexLikeWords_PicksTheReadingWhoseTemplateHashChecks(string template, string path, string? extraHex)
    {
        var extra = extraHex is null ? null : Convert.FromHexString(extraHex);
        var line = Line(template, path, extra);

        var entry = Assert.Single(ImaLog.ParseAscii(Encoding.UTF8.GetBytes(line + "\n")).Entries);

        Assert.True(entry.TemplateHashMatches(), line);
        Assert.Equal(path, entry.Path);
        if (template == "ima-sig")
        {
            Assert.Equal(extraHex, Hex.Lower(entry.Signature!));
        }
    }

    [Theory]
    [InlineData("x0 0000000000000000000000000000000000000000 ima-ng sha1:00 /a", "pcr")]
    [InlineData("10 00zz ima-ng sha1:00 /a", "template-hash")]
    [InlineData("10 0000000000000000000000000000000000000000 ima-ng 00 /a", "digest")]
    [InlineData("10 0000000000000000000000000000000000000000 ima-xx sha1:00 /a", "template-name")]
    [InlineData("10 0000000000000000000000000000000000000000 ima-ng", "entry")]
    public void ParseAscii_MalformedLine_ThrowsNamingLineAndField(string line, string field)
    {
        var text = "10 0000000000000000000000000000000000000000 ima-ng sha1:0000000000000000000000000000000000000000 boot_aggregate\n" + line + "\n";

        var ex = Assert.Throws<EventLogFormatException>(() => ImaLog.ParseAscii(Encoding.UTF8.GetBytes(text)));

        Assert.Equal($"line 2: {field}", ex.Field);
        Assert.Equal(text.IndexOf('\n', StringComparison.Ordinal) + 1, ex.Offset);
    }
}
