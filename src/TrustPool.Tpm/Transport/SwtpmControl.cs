using System.Buffers.Binary;
using System.Net.Sockets;

namespace TrustPool.Tpm.Transport;

/// <summary>
/// swtpm's control channel (<c>--ctrl type=tcp,port=P+1</c>; swtpm's tpm_ioctl.h): big-endian 32-bit command
/// codes and results. Used by tests to simulate a power cycle (CMD_INIT), never by the agent on a real host.
/// </summary>
public sealed class SwtpmControl
{
    private const uint CmdInit = 2;
    private const uint CmdShutdown = 3;

    private readonly TimeSpan _timeout;

    public SwtpmControl(string host, int port, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        Host = host;
        Port = port;
        _timeout = timeout ?? TimeSpan.FromSeconds(10);
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary>
    /// CMD_INIT: re-initializes the TPM as after a power-on reset (PCRs back to their reset values, transient
    /// objects and sessions gone). The TPM then expects TPM2_Startup.
    /// </summary>
    public void Init(bool deleteVolatileState = false) => Send(CmdInit, deleteVolatileState ? 1u : 0u);

    /// <summary>CMD_SHUTDOWN: stops swtpm (the process exits).</summary>
    public void Shutdown() => Send(CmdShutdown, null);

    private void Send(uint command, uint? argument)
    {
        using var client = new TcpClient { NoDelay = true };
        client.ReceiveTimeout = client.SendTimeout = (int)_timeout.TotalMilliseconds;
        using (var cts = new CancellationTokenSource(_timeout))
        {
            client.ConnectAsync(Host, Port, cts.Token).AsTask().GetAwaiter().GetResult();
        }

        using var stream = client.GetStream();
        Span<byte> request = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(request, command);
        var length = 4;
        if (argument is { } a)
        {
            BinaryPrimitives.WriteUInt32BigEndian(request[4..], a);
            length = 8;
        }

        stream.Write(request[..length]);
        Span<byte> response = stackalloc byte[4];
        var done = 0;
        while (done < 4)
        {
            var n = stream.Read(response[done..]);
            if (n == 0)
            {
                throw new IOException($"swtpm control channel {Host}:{Port} closed before answering command {command}");
            }

            done += n;
        }

        var result = BinaryPrimitives.ReadUInt32BigEndian(response);
        if (result != 0)
        {
            throw new IOException($"swtpm control command {command} failed with TPM result 0x{result:x}");
        }
    }
}
