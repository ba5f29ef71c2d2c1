using System.Net.Sockets;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Transport;

/// <summary>
/// swtpm's TCP server port (<c>swtpm socket --tpm2 --server type=tcp,port=P</c>): raw TPM command bytes in,
/// raw response bytes out, no framing. The response length comes from its own header.
/// swtpm serves one connection at a time, so while this transport holds its connection other clients
/// (tpm2-tools) wait; pass <c>holdConnection: false</c> to connect per command when sharing the TPM.
/// </summary>
public sealed class SwtpmTcpTransport : ITpmTransport
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly bool _holdConnection;
    private readonly TimeSpan _timeout;
    private TcpClient? _client;
    private NetworkStream? _stream;
    private bool _disposed;

    public SwtpmTcpTransport(string host, int port, TimeSpan? timeout = null, bool holdConnection = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Host = host;
        Port = port;
        _timeout = timeout ?? DefaultTimeout;
        _holdConnection = holdConnection;
    }

    public string Host { get; }

    public int Port { get; }

    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (command.Length < TpmResponseFrame.HeaderSize)
        {
            throw new ArgumentException("a TPM command has at least a 10-byte header", nameof(command));
        }

        try
        {
            var reused = _stream is not null;
            var stream = Connect();
            try
            {
                return Exchange(stream, command);
            }
            catch (StaleConnectionException) when (reused)
            {
                // The held connection was found closed before any response byte. The usual cause is swtpm
                // closing it while idle (restart), and then the command never reached a TPM: sending it once
                // more on a fresh connection is safe. A fresh connection failing this way is not retried.
                Disconnect();
                return Exchange(Connect(), command);
            }
        }
        catch (StaleConnectionException e)
        {
            Disconnect();
            throw new IOException($"swtpm at {Host}:{Port} closed the connection without a response", e);
        }
        catch (Exception e) when (e is IOException or SocketException or TpmFormatException)
        {
            // After a timeout or a half-read response the stream position is unknown: start over next time.
            Disconnect();
            throw;
        }
        finally
        {
            if (!_holdConnection)
            {
                Disconnect();
            }
        }
    }

    private NetworkStream Connect()
    {
        if (_stream is not null)
        {
            return _stream;
        }

        var client = new TcpClient { NoDelay = true };
        try
        {
            using (var cts = new CancellationTokenSource(_timeout))
            {
                client.ConnectAsync(Host, Port, cts.Token).AsTask().GetAwaiter().GetResult();
            }

            client.ReceiveTimeout = (int)_timeout.TotalMilliseconds;
            client.SendTimeout = (int)_timeout.TotalMilliseconds;
        }
        catch (OperationCanceledException e)
        {
            client.Dispose();
            throw new IOException($"connecting to swtpm at {Host}:{Port} timed out after {_timeout}", e);
        }
        catch
        {
            client.Dispose();
            throw;
        }

        _client = client;
        _stream = client.GetStream();
        return _stream;
    }

    private static byte[] Exchange(NetworkStream stream, ReadOnlySpan<byte> command)
    {
        try
        {
            stream.Write(command);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown })
        {
            throw new StaleConnectionException(e);
        }

        Span<byte> header = stackalloc byte[TpmResponseFrame.HeaderSize];
        int first;
        try
        {
            first = stream.Read(header);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted })
        {
            throw new StaleConnectionException(e);
        }

        if (first == 0)
        {
            throw new StaleConnectionException(null);
        }

        ReadExactly(stream, header[first..], "response.header", first);
        var size = TpmResponseFrame.ReadSize(header);
        var response = new byte[size];
        header.CopyTo(response);
        ReadExactly(stream, response.AsSpan(TpmResponseFrame.HeaderSize), "response", TpmResponseFrame.HeaderSize);
        return response;
    }

    private static void ReadExactly(NetworkStream stream, Span<byte> destination, string field, int offset)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var n = stream.Read(destination[done..]);
            if (n == 0)
            {
                throw new TpmFormatException(field, offset + done, $"connection closed with {destination.Length - done} bytes of the response missing");
            }

            done += n;
        }
    }

    /// <summary>Closes the connection; the next command opens a new one.</summary>
    public void Disconnect()
    {
        _stream?.Dispose();
        _client?.Dispose();
        _stream = null;
        _client = null;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Disconnect();
        }
    }

    public override string ToString() => $"swtpm:{Host}:{Port}";

    /// <summary>The connection was found closed before any response byte arrived.</summary>
    private sealed class StaleConnectionException(Exception? inner) : IOException("connection closed", inner);
}
