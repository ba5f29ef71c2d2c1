using TrustPool.Testing;
using TrustPool.Tpm.Transport;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Transport;

/// <summary>
/// DeviceTransport's write-then-read framing on a non-seekable file. A FIFO opened read-write hands back what was
/// written, one write's worth per read, just as the TPM driver hands back one response per command.
/// No TPM character device exists on CI machines; the real device path is exercised on hosts by the agent.
/// </summary>
public sealed class DeviceTransportTests : IDisposable
{
    private readonly DirectoryInfo _dir = TestTemp.CreateDirectory("trustpool-dev-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Fifo()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs as stand-in devices need Linux");
        var mkfifo = Integration.FindOnPath("mkfifo");
        Skip.If(mkfifo is null, "mkfifo is not available");
        var path = Path.Combine(_dir.FullName, "tpm");
        Assert.Equal(0, ProcessRunner.Run(mkfifo!, [path]).ExitCode);
        return path;
    }

    [SkippableFact]
    public void Execute_WholeResponseInOneRead_ReturnedWhenSizeFieldMatches()
    {
        using var t = new DeviceTransport(Fifo());
        var echoed = Convert.FromHexString("80010000000E000000000102AABB");
        Assert.Equal(echoed, t.Execute(echoed));
    }

    [SkippableFact]
    public void Execute_SizeFieldDisagreesWithBytesRead_ThrowsTpmFormatException()
    {
        using var t = new DeviceTransport(Fifo());
        var e = Assert.Throws<TpmFormatException>(() => t.Execute(Convert.FromHexString("800100000020000000000102")));
        Assert.Equal("response.responseSize", e.Field);
    }

    [SkippableFact]
    public void Execute_ResponseLargerThanTheBound_ThrowsTpmFormatException()
    {
        using var t = new DeviceTransport(Fifo());
        var big = new byte[TpmResponseFrame.MaxResponseSize + 100];
        big[0] = 0x80;
        big[1] = 0x01;
        big[2] = (byte)(big.Length >> 24);
        big[3] = (byte)(big.Length >> 16);
        big[4] = (byte)(big.Length >> 8);
        big[5] = (byte)big.Length;
        Assert.Throws<TpmFormatException>(() => t.Execute(big));
    }

    [SkippableTheory]
    [InlineData("/dev/null", "no bytes: a device that answers nothing")]
    [InlineData("/dev/zero", "zeros: a size field of 0")]
    public void Execute_RealCharacterDeviceThatIsNoTpm_ThrowsTpmFormatException(string path, string desc)
    {
        Skip.IfNot(File.Exists(path), $"{path} is not available");
        using var t = new DeviceTransport(path);
        var e = Assert.Throws<TpmFormatException>(() => t.Execute(Convert.FromHexString("80010000000C000001440000")));
        Assert.True(e.Field.StartsWith("response", StringComparison.Ordinal), desc);
    }

    [SkippableFact]
    public void Execute_AfterDispose_ObjectDisposedException()
    {
        var t = new DeviceTransport(Fifo());
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Execute(new byte[10]));
    }
}
