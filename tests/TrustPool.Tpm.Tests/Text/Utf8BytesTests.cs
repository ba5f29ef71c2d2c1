using System.Text;
using TrustPool.Tpm.Text;

namespace TrustPool.Tpm.Tests.Text;

public sealed class Utf8BytesTests
{
    [Theory]
    [InlineData(new byte[] { }, -1)]
    [InlineData(new byte[] { 0x61, 0x62 }, -1)]
    [InlineData(new byte[] { 0x61, 0xff }, 1)]
    [InlineData(new byte[] { 0xc3 }, 0)]
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 }, 0)]
    public void FirstInvalid_OffsetOfTheFirstBadByte(byte[] bytes, int expected) => Assert.Equal(expected, Utf8Bytes.FirstInvalid(bytes));

    [Fact]
    public void FirstInvalid_AfterLongValidNonAsciiText_ExactOffset()
    {
        var valid = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("Grüße 🙂 ", 50)));
        Assert.Equal(-1, Utf8Bytes.FirstInvalid(valid));
        Assert.Equal(valid.Length, Utf8Bytes.FirstInvalid([.. valid, 0x80, 0x61]));
    }
}
