using System.Net;
using System.Net.Sockets;
using TrustPool.Tpm.Transport;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Transport;

/// <summary>SwtpmTcpTransport against a scripted loopback server (no swtpm needed).</summary>
public sealed class SwtpmTcpTransportTests
{
    private static readonly byte[] s_command = Convert.FromHexString("80010000000C000001440000");
    private static readonly byte[] s_ok = Convert.FromHexString("80010000000A00000000");

    /// <summary>Accepts connections in turn; each handler gets the stream of one connection.</summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _loop;

        public ScriptedServer(params Action<NetworkStream>[] connections)
        {
            _listener.Start();
            _loop = Task.Run(() =>
            {
                foreach (var handle in connections)
                {
                    using var client = _listener.AcceptTcpClient();
                    using var stream = client.GetStream();
                    handle(stream);
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Dispose()
        {
            _listener.Stop();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }
    }

    private static void ReadCommand(NetworkStream s)
    {
        var buf = new byte[s_command.Length];
        s.ReadExactly(buf);
    }

    [Fact]
    public void Execute_ResponseInPieces_ReassembledBySizeField()
    {
        using var server = new ScriptedServer(s =>
        {
            ReadCommand(s);
            s.Write(s_ok.AsSpan(0, 3));
            s.Flush();
            Thread.Sleep(20);
            s.Write(s_ok.AsSpan(3));
        });
        using var t = new SwtpmTcpTransport("127.0.0.1", server.Port, TimeSpan.FromSeconds(5));
        Assert.Equal(s_ok, t.Execute(s_command));
    }

    [Fact]
    public void Execute_OversizedSizeField_ThrowsWithoutReadingOn()
    {
        using var server = new ScriptedServer(s =>
        {
            ReadCommand(s);
            s.Write(Convert.FromHexString("8001FFFFFFF000000000"));
            Thread.Sleep(200);
        });
        using var t = new SwtpmTcpTransport("127.0.0.1", server.Port, TimeSpan.FromSeconds(5));
        var e = Assert.Throws<TpmFormatException>(() => t.Execute(s_command));
        Assert.Equal("response.responseSize", e.Field);
    }

    [Fact]
    public void Execute_UndersizedSizeField_Throws()
    {
        using var server = new ScriptedServer(s =>
        {
            ReadCommand(s);
            s.Write(Convert.FromHexString("80010000000400000000"));
            Thread.Sleep(200);
        });
        using var t = new SwtpmTcpTransport("127.0.0.1", server.Port, TimeSpan.FromSeconds(5));
        Assert.Throws<TpmFormatException>(() => t.Execute(s_command));
    }

    [Fact]
    public void Execute_ConnectionClosedMidResponse_ThrowsTpmFormatException()
    {
        using var server = new ScriptedServer(s =>
        {
            ReadCommand(s);
            s.Write(Convert.FromHexString("800100000020000000000102"));
        });
        using var t = new SwtpmTcpTransport("127.0.0.1", server.Port, TimeSpan.FromSeconds(5));
        Assert.Throws<TpmFormatException>(() => t.Execute(s_command));
    }

    [Fact]
    public void Execute_ServerNeverAnswers_TimesOut()
    {
        using var gate = new ManualResetEventSlim();
        using var server = new ScriptedServer(s =>
        {
            ReadCommand(s);
            gate.Wait(TimeSpan.FromSeconds(10));
        });
        using var t = new SwtpmTcpTransport("127.0.0.1", server.Port, TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;
        Assert.ThrowsAny<IOException>(() => t.Execute(s_command));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        gate.Set();
    }

    [Fact]
    public void Execute_HeldConnectionClosedWhileIdle_ReconnectsAndResends()
    {
        var served = 0;
        using var server = new ScriptedServer(
            // Count before answering: the client may check the count as soon as it has the answer.
            s => { ReadCommand(s); Interlocked.Increment(ref served); s.Write(s_ok); },   // first connection: one answer, then closed
            s => { ReadCommand(s); Interlocked.Increment(ref served); s.Write(s_ok); });  // second connection
        using var t = new SwtpmTcpTransport("127.0.0.1", server.Port, TimeSpan.FromSeconds(5));
        Assert.Equal(s_ok, t.Execute(s_command));
        Thread.Sleep(100); // the server has closed the first connection by now
        Assert.Equal(s_ok, t.Execute(s_command));
        Assert.Equal(2, Volatile.Read(ref served));
    }

    [Fact]
    public void Execute_FreshConnectionClosedWithoutAnswer_IsAnIOExceptionNotARetry()
    {
        var served = 0;
        using var server = new ScriptedServer(s => { ReadCommand(s); served++; }, s => { ReadCommand(s); s.Write(s_ok); served++; });
        using var t = new SwtpmTcpTransport("127.0.0.1", server.Port, TimeSpan.FromSeconds(5));
        // A command that may have reached the TPM on a fresh connection is never sent twice.
        Assert.ThrowsAny<IOException>(() => t.Execute(s_command));
        Assert.Equal(1, served);
    }

    [Fact]
    public void Execute_NothingListening_ThrowsSocketOrIOException()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        using var t = new SwtpmTcpTransport("127.0.0.1", port, TimeSpan.FromSeconds(2));
        var e = Record.Exception(() => t.Execute(s_command));
        Assert.True(e is SocketException or IOException, e?.ToString());
    }

    [Fact]
    public void Execute_ShortCommand_RejectedAsMisuse()
    {
        using var t = new SwtpmTcpTransport("127.0.0.1", 1);
        Assert.Throws<ArgumentException>(() => t.Execute([0x80, 0x01]));
    }
}
