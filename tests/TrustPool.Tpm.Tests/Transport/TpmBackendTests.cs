using TrustPool.Tpm.Transport;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Transport;

public sealed class TpmBackendTests
{
    [Fact]
    public void Open_Swtpm_HostAndPort()
    {
        using var t = Assert.IsType<SwtpmTcpTransport>(TpmBackend.Open("swtpm:127.0.0.1:2321"));
        Assert.Equal("127.0.0.1", t.Host);
        Assert.Equal(2321, t.Port);
        Assert.Equal("swtpm:127.0.0.1:2321", t.ToString());
    }

    [Theory]
    [InlineData("swtpm:127.0.0.1")]
    [InlineData("swtpm:127.0.0.1:0")]
    [InlineData("swtpm:127.0.0.1:70000")]
    [InlineData("swtpm::2321")]
    [InlineData("software:/tmp/state")]
    [InlineData("tpm0")]
    public void Open_Malformed_ArgumentException(string backend) => Assert.Throws<ArgumentException>(() => TpmBackend.Open(backend));

    [Fact]
    public void Open_MissingDevice_Throws()
    {
        var e = Record.Exception(() => TpmBackend.Open("device:/nonexistent/tpmrm9"));
        Assert.True(e is IOException or UnauthorizedAccessException, e?.ToString());
    }

    [Theory]
    [InlineData("80010000000A00000000", 10)]
    [InlineData("800100002000", -1)]
    [InlineData("80010000000900000000", -1)]
    [InlineData("80010000200100000000", -1)]
    public void ResponseFrame_ReadSize_Bounded(string hex, int expected)
    {
        var bytes = Convert.FromHexString(hex);
        if (expected < 0)
        {
            Assert.Throws<TpmFormatException>(() => TpmResponseFrame.ReadSize(bytes));
        }
        else
        {
            Assert.Equal(expected, TpmResponseFrame.ReadSize(bytes));
        }
    }

    [Fact]
    public void ResponseFrame_CheckComplete_SizeMustEqualBytesRead()
    {
        TpmResponseFrame.CheckComplete(Convert.FromHexString("80010000000A00000000"));
        Assert.Throws<TpmFormatException>(() => TpmResponseFrame.CheckComplete(Convert.FromHexString("80010000000C00000000")));
    }
}
