using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;

namespace TrustPool.Server.Siem;

/// <summary>Where and how to send: <c>tcp://HOST:PORT</c>, TLS (RFC 5425) optionally, RFC 5424 or CEF lines.</summary>
public sealed record SyslogTarget(string Host, int Port, bool Tls, string Format, string? CaFile)
{
    public static SyslogTarget Parse(string url, bool tls, string format, string? caFile)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme != "tcp" || u.Port <= 0)
        {
            throw new ArgumentException($"syslog target '{url}' is not tcp://HOST:PORT", nameof(url));
        }

        if (format is not ("rfc5424" or "cef"))
        {
            throw new ArgumentException($"syslog format '{format}' is not rfc5424 or cef", nameof(format));
        }

        return new SyslogTarget(u.Host, u.Port, tls, format, caFile);
    }
}

/// <summary>
/// Delivers the <see cref="DiskQueue"/> to a syslog receiver over TCP (newline framing, RFC 6587 3.4.2), in order and at
/// least once: a batch is acknowledged only after the connection is seen alive after writing it; a receiver that went
/// away gets the unacknowledged lines again once it is back (duplicates carry the same <c>seq</c>). Reconnects with
/// back-off (1 s doubling to 30 s); never blocks the service.
/// </summary>
public sealed class SyslogForwarder : IAsyncDisposable
{
    private const int BatchSize = 256;
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(150);

    private readonly SyslogTarget _target;
    private readonly DiskQueue _queue;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Task _loop;
    private TcpClient? _tcp;
    private Stream? _stream;

    public SyslogForwarder(SyslogTarget target, DiskQueue queue, ILogger logger)
    {
        _target = target;
        _queue = queue;
        _logger = logger;
        _queue.Appended += () =>
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        };
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    public long Delivered { get; private set; }

    public bool Connected => _stream is not null;

    public string? LastError { get; private set; }

    private async Task RunAsync(CancellationToken ct)
    {
        var backoff = TimeSpan.FromSeconds(1);
        var lastSync = DateTime.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow - lastSync > TimeSpan.FromSeconds(1))
                {
                    _queue.Sync();
                    lastSync = DateTime.UtcNow;
                }

                var batch = _queue.Peek(BatchSize);
                if (batch.Count == 0)
                {
                    await _wake.WaitAsync(TimeSpan.FromSeconds(1), ct);
                    continue;
                }

                var stream = _stream ?? await ConnectAsync(ct);
                var text = new StringBuilder();
                foreach (var line in batch)
                {
                    text.Append(line.Line).Append('\n');
                }

                await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct);
                await stream.FlushAsync(ct);
                await Task.Delay(s_settle, ct);
                if (!Alive())
                {
                    throw new IOException("the receiver closed the connection");
                }

                _queue.Ack(batch[^1].Sequence);
                Delivered += batch.Count;
                backoff = TimeSpan.FromSeconds(1);
                LastError = null;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
                LastError = e.Message;
                ServerLog.SyslogFailed(_logger, $"{_target.Host}:{_target.Port}", e.Message);
                Disconnect();
                try
                {
                    await Task.Delay(backoff, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private async Task<Stream> ConnectAsync(CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(_target.Host, _target.Port, ct);
            Stream stream = tcp.GetStream();
            if (_target.Tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, Validate);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = _target.Host }, ct);
                stream = ssl;
            }

            _tcp = tcp;
            _stream = stream;
            ServerLog.SyslogConnected(_logger, $"{_target.Host}:{_target.Port}", _target.Tls);
            return stream;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_target.CaFile is null || certificate is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(_target.CaFile);
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var cert = new X509Certificate2(certificate);
        return custom.Build(cert);
    }

    /// <summary>A receiver never sends: a readable socket with nothing to read means it closed.</summary>
    private bool Alive()
    {
        var socket = _tcp?.Client;
        return socket is not null && socket.Connected && !(socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0);
    }

    private void Disconnect()
    {
        _stream?.Dispose();
        _tcp?.Dispose();
        _stream = null;
        _tcp = null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        Disconnect();
        _stop.Dispose();
        _wake.Dispose();
    }
}
