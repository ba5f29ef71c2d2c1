using System.Text;
using TrustPool.Evidence.Ima;

namespace TrustPool.Evidence.Tests.Ima;

public class ImaPcrIndexTests
{
    private const string Line = "{0} 1d8d532d463c9f8c205d0df7787669a85f93e260 ima-ng sha1:0000000000000000000000000000000000000000 boot_aggregate\n";

    [Theory]
    [InlineData("32")]
    [InlineData("4294967295")]
    public void Parse_AsciiPcrIndexBeyondTpm_EventLogFormatException(string pcr)
    {
        var e = Assert.Throws<EventLogFormatException>(() => ImaLog.Parse(Encoding.ASCII.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, Line, pcr))));
        Assert.Contains("pcr", e.Field, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BinaryPcrIndexBeyondTpm_EventLogFormatExceptionAtOffset0()
    {
        var entry = new byte[4 + 20 + 4 + 6 + 4];
        BitConverterLe(entry, 0, 40);
        var e = Assert.Throws<EventLogFormatException>(() => ImaLog.Parse(entry));
        Assert.Equal("ima.pcr", e.Field);
        Assert.Equal(0, e.Offset);
    }

    private static void BitConverterLe(byte[] b, int at, uint v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
}
