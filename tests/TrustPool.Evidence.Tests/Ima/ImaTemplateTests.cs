using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TrustPool.Evidence.Ima;

namespace TrustPool.Evidence.Tests.Ima;

/// <summary>
/// Issue 13, hole 1: the template name is not covered by the template hash, so a name is believed only when the data
/// is exactly that template (binary and ASCII lists alike).
/// </summary>
public class ImaTemplateTests
{
    private static readonly byte[] s_fileDigest = SHA256.HashData("contents"u8);

    private static byte[] Le32(int v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v);
        return b;
    }

    private static byte[] Data(params byte[][] fields) => [.. fields.SelectMany(f => (byte[])[.. Le32(f.Length), .. f])];

    private static byte[] Dng(byte[] digest, string alg = "sha256") => [.. Encoding.ASCII.GetBytes(alg + ":\0"), .. digest];

    private static byte[] Nng(string name) => Encoding.UTF8.GetBytes(name + "\0");

    /// <summary>One binary record with a correct SHA-1 template hash over <paramref name="data"/>.</summary>
    private static byte[] Record(string template, byte[] data)
    {
        var name = Encoding.ASCII.GetBytes(template);
        return [.. Le32(10), .. SHA1.HashData(data), .. Le32(name.Length), .. name, .. Le32(data.Length), .. data];
    }

    private static readonly byte[] s_sig = Convert.FromHexString("030204aabbccdd0004deadbeef");

    public static TheoryData<string, string, byte[]> WellFormed => new()
    {
        { "ima-ng", "d-ng|n-ng", Data(Dng(s_fileDigest), Nng("/usr/bin/ls")) },
        { "ima-ng sha1", "d-ng|n-ng", Data(Dng(SHA1.HashData("x"u8), "sha1"), Nng("/usr/bin/ls")) },
        { "ima-sig", "with a signature", Data(Dng(s_fileDigest), Nng("/usr/bin/ls"), s_sig) },
        { "ima-sig", "empty signature", Data(Dng(s_fileDigest), Nng("/usr/bin/ls"), []) },
        { "ima-buf", "digest = sha256(buf)", Data(Dng(SHA256.HashData("root=/dev/sda"u8)), Nng("kexec-cmdline"), "root=/dev/sda"u8.ToArray()) },
        { "ima-modsig", "5 fields", Data(Dng(s_fileDigest), Nng("/lib/modules/x.ko"), [], [], []) },
    };

    [Theory]
    [MemberData(nameof(WellFormed))]
    public void ParseBinary_ExactLayout_Accepted(string template, string desc, byte[] data)
    {
        var name = template.Split(' ')[0];

        var entry = Assert.Single(ImaLog.ParseBinary(Record(name, data)).Entries);

        Assert.True(entry.TemplateHashMatches(), desc);
        Assert.Equal(name, entry.TemplateName);
    }

    public static TheoryData<string, string, byte[]> Mislabelled => new()
    {
        { "ima-buf", "an ima-sig record relabelled: its digest is not the hash of the 'buffer' (the signature)", Data(Dng(s_fileDigest), Nng("/usr/bin/miner"), s_sig) },
        { "ima-buf", "an ima-sig record without signature relabelled", Data(Dng(s_fileDigest), Nng("/usr/bin/miner"), []) },
        { "ima-buf", "2 fields", Data(Dng(s_fileDigest), Nng("/usr/bin/miner")) },
        { "ima-ng", "an ima-sig record (3 fields) relabelled", Data(Dng(s_fileDigest), Nng("/usr/bin/miner"), s_sig) },
        { "ima-sig", "an ima-ng record (2 fields) relabelled", Data(Dng(s_fileDigest), Nng("/usr/bin/miner")) },
        { "ima-sig", "4 fields", Data(Dng(s_fileDigest), Nng("/usr/bin/miner"), s_sig, []) },
        { "ima-modsig", "3 fields", Data(Dng(s_fileDigest), Nng("/usr/bin/miner"), s_sig) },
        { "ima-ng", "d-ng without algo prefix", Data(SHA1.HashData("x"u8), Nng("/usr/bin/miner")) },
        { "ima-ng", "sha256 digest of 20 bytes", Data(Dng(SHA1.HashData("x"u8)), Nng("/usr/bin/miner")) },
        { "ima-ng", "unknown digest algorithm", Data(Dng(s_fileDigest, "rot13"), Nng("/usr/bin/miner")) },
        { "ima-ng", "n-ng without NUL", Data(Dng(s_fileDigest), Encoding.UTF8.GetBytes("/usr/bin/miner")) },
        { "ima-ng", "n-ng with an inner NUL", Data(Dng(s_fileDigest), Nng("boot_aggregate\0/usr/bin/miner")) },
    };

    [Theory]
    [MemberData(nameof(Mislabelled))]
    public void ParseBinary_NameThatDoesNotMatchTheLayout_ThrowsTemplateFault(string template, string desc, byte[] data)
    {
        var boot = Record("ima-ng", Data(Dng(s_fileDigest), Nng("boot_aggregate")));

        var ex = Assert.Throws<EventLogFormatException>(() => ImaLog.ParseBinary([.. boot, .. Record(template, data)]));

        Assert.True(ImaTemplates.IsTemplateFault(ex), $"{desc}: {ex.Field}");
        Assert.Equal(ImaTemplates.LayoutField, ex.Field);
        Assert.True(ex.Offset >= boot.Length, $"{desc}: offset {ex.Offset} is not in the second record");
    }

    [Theory]
    [InlineData("ima-foo")]
    [InlineData("ima-ngv2")]
    [InlineData("ima-sigv2")]
    [InlineData("evm")]
    public void ParseBinary_UnknownTemplateName_ThrowsNotSkips(string template)
    {
        var ex = Assert.Throws<EventLogFormatException>(() => ImaLog.ParseBinary(Record(template, Data(Dng(s_fileDigest), Nng("/usr/bin/miner")))));

        Assert.Equal(ImaTemplates.NameField, ex.Field);
        Assert.Equal(28, ex.Offset);
        Assert.True(ImaTemplates.IsTemplateFault(ex));
    }

    private static string AsciiLine(string template, byte[] data, string fields) => $"10 {Hex.Lower(SHA1.HashData(data))} {template} {fields}\n";

    [Fact]
    public void ParseAscii_ImaSigLineRelabelledAsImaBuf_ThrowsTemplateLayout()
    {
        // The same bytes read as ima-buf reproduce the template hash: only the buffer digest check tells them apart.
        var data = Data(Dng(s_fileDigest), Nng("/usr/bin/miner"), s_sig);
        var line = AsciiLine("ima-buf", data, $"sha256:{Hex.Lower(s_fileDigest)} /usr/bin/miner {Hex.Lower(s_sig)}");

        var ex = Assert.Throws<EventLogFormatException>(() => ImaLog.ParseAscii(Encoding.ASCII.GetBytes(line)));

        Assert.Equal("line 1: template-layout", ex.Field);
        Assert.True(ImaTemplates.IsTemplateFault(ex));
    }

    [Fact]
    public void ParseAscii_RealImaBufLine_Accepted()
    {
        var buf = "root=/dev/sda"u8.ToArray();
        var digest = SHA256.HashData(buf);
        var data = Data(Dng(digest), Nng("kexec-cmdline"), buf);

        var entry = Assert.Single(ImaLog.ParseAscii(Encoding.ASCII.GetBytes(AsciiLine("ima-buf", data, $"sha256:{Hex.Lower(digest)} kexec-cmdline {Hex.Lower(buf)}"))).Entries);

        Assert.True(entry.TemplateHashMatches());
        Assert.Equal(buf, entry.Buffer);
    }

    [Theory]
    [InlineData("ima-ng", "sha256:0011223344556677889900112233445566778899", "template-layout")]
    [InlineData("ima-ng", "rot13:00112233445566778899001122334455667788990011223344556677889900aa", "template-layout")]
    [InlineData("ima-ngv2", "ima:sha256:00112233445566778899001122334455667788990011223344556677889900aa", "template-name")]
    [InlineData("ima-modsig", "sha256:00112233445566778899001122334455667788990011223344556677889900aa", "template-name")]
    public void ParseAscii_WrongDigestOrUnknownTemplate_Throws(string template, string digest, string field)
    {
        var line = $"10 0123456789012345678901234567890123456789 {template} {digest} /usr/bin/miner\n";

        var ex = Assert.Throws<EventLogFormatException>(() => ImaLog.ParseAscii(Encoding.ASCII.GetBytes(line)));

        Assert.Equal($"line 1: {field}", ex.Field);
        Assert.True(ImaTemplates.IsTemplateFault(ex));
    }
}
