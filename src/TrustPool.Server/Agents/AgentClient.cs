using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Agents;

/// <summary>
/// The attestation service's HTTPS client to agents (ARCHITECTURE.md "Agent API"): mutual TLS with the service's
/// client certificate, the agent's self-signed TLS certificate pinned by its SHA-256 fingerprint (chain and name are
/// not checked: the pin is the trust). One pooled keep-alive handler per (scheme + authority, pin), so thousands of
/// simulated agents behind one listener share a few connections. Agent URLs may carry a path base; the Agent API
/// paths are relative to it. Thread-safe; one instance per service.
/// </summary>
public sealed class AgentClient : IAgentClient, IDisposable
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly ConcurrentDictionary<string, Lazy<Channel>> _channels = new(StringComparer.Ordinal);
    private readonly X509Certificate2 _clientCertificate;
    private readonly SslStreamCertificateContext _clientContext;
    private readonly AgentClientOptions _options;
    private long _connectionsOpened;
    private int _disposed;

    /// <param name="clientCertificate">The service's client certificate with its private key (clientAuth EKU), e.g. from
    /// <c>ServiceCa.LoadOrIssueClientCertificate</c>. Not owned: the caller disposes it after this client.</param>
    /// <param name="options">Timeouts, limits and pooling; defaults when null.</param>
    public AgentClient(X509Certificate2 clientCertificate, AgentClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(clientCertificate);
        if (!clientCertificate.HasPrivateKey)
        {
            throw new ArgumentException("the client certificate has no private key", nameof(clientCertificate));
        }

        _options = options ?? new AgentClientOptions();
        if (_options.Timeout <= TimeSpan.Zero || _options.MaxResponseBytes <= 0 || _options.MaxConnectionsPerServer <= 0)
        {
            throw new ArgumentException("Timeout, MaxResponseBytes and MaxConnectionsPerServer must be positive", nameof(options));
        }

        _clientCertificate = clientCertificate;

        // Always present this certificate: SslStream's default selection would send none when the agent's CA list differs,
        // and the agent's refusal is then reported as TlsRejected either way.
        _clientContext = SslStreamCertificateContext.Create(clientCertificate, additionalCertificates: null, offline: true);
    }

    /// <summary>TCP connections opened by the pinned handlers so far (keep-alive makes this far smaller than the request count).</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    /// <summary>Pooled handlers, one per (scheme + authority, pinned fingerprint).</summary>
    internal int HandlerCount => _channels.Count;

    /// <summary>
    /// <c>GET v1/identity</c>. With <paramref name="pinnedFingerprint"/> the TLS certificate must have that fingerprint.
    /// Without one (first contact, enrollment) any certificate is accepted for the handshake, and the answer only when the
    /// presented certificate's fingerprint equals the identity's own <c>tlsFingerprint</c>; the caller pins the returned one.
    /// </summary>
    public async Task<(AgentIdentity Identity, string PresentedFingerprint)> GetIdentityAsync(Uri agentUrl, string? pinnedFingerprint, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var url = Resolve(agentUrl, "v1/identity");
        if (pinnedFingerprint is not null)
        {
            var channel = GetChannel(url, pinnedFingerprint);
            var identity = await SendAsync(channel, HttpMethod.Get, url, null, AgentResponses.Identity, ct).ConfigureAwait(false);
            if (!string.Equals(identity.TlsFingerprint, channel.Pin, StringComparison.Ordinal))
            {
                throw AgentException.Protocol("tlsFingerprint", "the agent's identity names another TLS certificate than the one it presents");
            }

            return (identity, channel.Pin);
        }

        // First contact: a handler of its own, so the certificate seen is the one of this very connection.
        using var first = CreateChannel(pin: null);
        var id = await SendAsync(first, HttpMethod.Get, url, null, AgentResponses.Identity, ct).ConfigureAwait(false);
        var presented = first.LastPresented ?? throw new AgentException(AgentFailure.TlsRejected, $"agent {url.Authority}: no TLS certificate seen");
        if (!FixedTimeEqualsHex(presented, id.TlsFingerprint))
        {
            throw new AgentException(AgentFailure.TlsPinMismatch,
                $"agent {url.Authority} presented TLS certificate {presented} but its identity claims {id.TlsFingerprint}");
        }

        return (id, presented);
    }

    /// <summary><c>POST v1/activate-credential</c>: the secret the agent's TPM recovered from the MakeCredential challenge.</summary>
    public Task<byte[]> ActivateCredentialAsync(Uri agentUrl, string pinnedFingerprint, byte[] credentialBlob, byte[] encryptedSecret, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(credentialBlob);
        ArgumentNullException.ThrowIfNull(encryptedSecret);
        var body = Json(w =>
        {
            w.WriteBase64String("credentialBlob", credentialBlob);
            w.WriteBase64String("encryptedSecret", encryptedSecret);
        });
        return SendPinnedAsync(agentUrl, pinnedFingerprint, HttpMethod.Post, "v1/activate-credential", body, AgentResponses.Secret, ct);
    }

    /// <summary>
    /// <c>POST v1/quote</c> of <paramref name="selection"/> with <paramref name="nonce"/>. The answer is checked for form
    /// only (every selected PCR present, right sizes); verify it with QuoteVerifier.
    /// </summary>
    public Task<AgentQuote> QuoteAsync(Uri agentUrl, string pinnedFingerprint, byte[] nonce, PcrSelection selection, long? imaOffset, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentNullException.ThrowIfNull(selection);
        var body = Json(w =>
        {
            w.WriteBase64String("nonce", nonce);
            w.WriteStartObject("selection");
            foreach (var bank in selection)
            {
                w.WriteStartArray(TpmHash.Name(bank.Hash));
                foreach (var i in bank.Indices)
                {
                    w.WriteNumberValue(i);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
            if (imaOffset is { } o)
            {
                w.WriteNumber("imaOffset", o);
            }
        });
        return SendPinnedAsync(agentUrl, pinnedFingerprint, HttpMethod.Post, "v1/quote", body, root => AgentResponses.Quote(root, selection), ct);
    }

    /// <summary>
    /// <c>GET v1/health</c> (one TPM round trip on the agent): true when the agent answers 2xx with status <c>ok</c>,
    /// false when it answers with an error status (e.g. 503 tpm-failure). Transport failures throw <see cref="AgentException"/>.
    /// </summary>
    public async Task<bool> HealthAsync(Uri agentUrl, string pinnedFingerprint, CancellationToken ct = default)
    {
        try
        {
            return await SendPinnedAsync(agentUrl, pinnedFingerprint, HttpMethod.Get, "v1/health", null,
                root => root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String && s.ValueEquals("ok"u8), ct).ConfigureAwait(false);
        }
        catch (AgentException e) when (e.Failure == AgentFailure.HttpError)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var c in _channels.Values)
        {
            if (c.IsValueCreated)
            {
                c.Value.Dispose();
            }
        }

        _channels.Clear();
    }

    /// <summary>The agent URL with a trailing slash on its path (the path base), then <paramref name="relative"/>.</summary>
    internal static Uri Resolve(Uri agentUrl, string relative)
    {
        ArgumentNullException.ThrowIfNull(agentUrl);
        if (!agentUrl.IsAbsoluteUri || agentUrl.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"agent URL '{agentUrl}' must be an absolute https URL", nameof(agentUrl));
        }

        var b = new UriBuilder(agentUrl) { Query = "", Fragment = "" };
        if (!b.Path.EndsWith('/'))
        {
            b.Path += "/";
        }

        return new Uri(b.Uri, relative);
    }

    /// <summary>Lower-case 64-digit hex of a SHA-256 pin; <see cref="ArgumentException"/> otherwise.</summary>
    internal static string NormalizePin(string pin)
    {
        ArgumentNullException.ThrowIfNull(pin);
        var p = pin.Trim().Replace(":", "", StringComparison.Ordinal);
        if (!AgentResponses.IsSha256Hex(p))
        {
            throw new ArgumentException("the pinned fingerprint must be the hex SHA-256 of the agent's TLS certificate", nameof(pin));
        }

        return p.ToLowerInvariant();
    }

    private Task<T> SendPinnedAsync<T>(Uri agentUrl, string pinnedFingerprint, HttpMethod method, string path, byte[]? body,
        Func<JsonElement, T> parse, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var url = Resolve(agentUrl, path);
        return SendAsync(GetChannel(url, pinnedFingerprint), method, url, body, parse, ct);
    }

    private Channel GetChannel(Uri url, string pinnedFingerprint)
    {
        var pin = NormalizePin(pinnedFingerprint);
        var key = url.GetLeftPart(UriPartial.Authority).ToLowerInvariant() + "|" + pin;
        return _channels.GetOrAdd(key, _ => new Lazy<Channel>(() => CreateChannel(pin), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private Channel CreateChannel(string? pin)
    {
        var channel = new Channel(pin ?? "");
        var pinBytes = pin is null ? null : Convert.FromHexString(pin);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = _options.MaxConnectionsPerServer,
            PooledConnectionIdleTimeout = _options.PooledConnectionIdleTimeout,
            ConnectTimeout = _options.Timeout,
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxResponseHeadersLength = 64,
            ConnectCallback = async (context, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, token).ConfigureAwait(false);
                    Interlocked.Increment(ref _connectionsOpened);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = _clientContext,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,

                // The agent's certificate is self-signed and named after its host: chain and name errors are expected.
                // Only the fingerprint decides (constant-time compare against the pin).
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null)
                    {
                        return false;
                    }

                    Span<byte> hash = stackalloc byte[32];
                    SHA256.HashData(certificate.GetRawCertData(), hash);
                    if (pinBytes is null)
                    {
                        channel.LastPresented = Convert.ToHexStringLower(hash);
                        return true;
                    }

                    if (CryptographicOperations.FixedTimeEquals(hash, pinBytes))
                    {
                        return true;
                    }

                    channel.LastPresented = Convert.ToHexStringLower(hash);
                    Interlocked.Increment(ref channel.Mismatches);
                    return false;
                },
            },
        };
        channel.Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        return channel;
    }

    private async Task<T> SendAsync<T>(Channel channel, HttpMethod method, Uri url, byte[]? body, Func<JsonElement, T> parse, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        var mismatches = Interlocked.Read(ref channel.Mismatches);
        var answered = false;
        try
        {
            using var request = new HttpRequestMessage(method, url) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body) { Headers = { ContentType = s_json } };
            }

            using var response = await channel.Invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            answered = true;
            var status = (int)response.StatusCode;
            if (status is < 200 or > 299)
            {
                // The error envelope is small; read at most 64 KiB of it and never fail on its form.
                var (type, field) = await ReadProblemAsync(response, timeout.Token).ConfigureAwait(false);
                throw new AgentException(AgentFailure.HttpError, $"agent {url.Authority} {method} {url.AbsolutePath}: HTTP {status}{(type is null ? "" : " " + type)}",
                    statusCode: status, problemType: type, field: field);
            }

            var (buffer, length) = await ReadBodyAsync(response, _options.MaxResponseBytes, timeout.Token).ConfigureAwait(false);
            try
            {
                using var doc = AgentResponses.ParseObject(buffer.AsMemory(0, length));
                return parse(doc.RootElement);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (AgentException)
        {
            throw;
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new AgentException(AgentFailure.Timeout, $"agent {url.Authority} {method} {url.AbsolutePath}: no answer within {_options.Timeout.TotalSeconds:0.###} s", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or AuthenticationException or SocketException)
        {
            throw Classify(e, channel, mismatches, answered, method, url);
        }
    }

    private static AgentException Classify(Exception e, Channel channel, long mismatchesBefore, bool answered, HttpMethod method, Uri url)
    {
        var what = $"agent {url.Authority} {method} {url.AbsolutePath}";
        if (answered)
        {
            // The status line and headers arrived: TLS and the pin were fine, the body was cut off.
            return new AgentException(AgentFailure.Unreachable, $"{what}: connection lost while reading the answer ({Describe(e)})", e);
        }

        if (Interlocked.Read(ref channel.Mismatches) != mismatchesBefore)
        {
            return new AgentException(AgentFailure.TlsPinMismatch, $"{what}: TLS certificate {channel.LastPresented} is not the pinned {channel.Pin}", e);
        }

        var error = e is HttpRequestException h ? h.HttpRequestError : HttpRequestError.Unknown;
        switch (error)
        {
            case HttpRequestError.NameResolutionError:
            case HttpRequestError.ConnectionError when !HasInner<AuthenticationException>(e):
                return new AgentException(AgentFailure.Unreachable, $"{what}: unreachable ({Describe(e)})", e);
            case HttpRequestError.SecureConnectionError:
                return new AgentException(AgentFailure.TlsRejected, $"{what}: TLS handshake failed ({Describe(e)})", e);
            case HttpRequestError.InvalidResponse:
            case HttpRequestError.ConfigurationLimitExceeded:
            case HttpRequestError.VersionNegotiationError:
                return new AgentException(AgentFailure.Protocol, $"{what}: not an HTTP answer ({Describe(e)})", e, field: "http");
        }

        if (HasInner<AuthenticationException>(e))
        {
            return new AgentException(AgentFailure.TlsRejected, $"{what}: TLS refused ({Describe(e)})", e);
        }

        // TLS 1.3 sends the client certificate after the server's Finished: an agent refusing it closes the
        // connection before any answer, which surfaces here as ResponseEnded (SocketsHttpHandler retries requests
        // that fail this way on a reused connection by itself, so this was a fresh one). A TLS agent that closes
        // fresh connections without answering is indistinguishable from one refusing our certificate.
        if (error == HttpRequestError.ResponseEnded || e is IOException)
        {
            return new AgentException(AgentFailure.TlsRejected, $"{what}: connection closed before an answer, the agent refused the TLS session ({Describe(e)})", e);
        }

        return new AgentException(AgentFailure.Unreachable, $"{what}: {Describe(e)}", e);
    }

    private static bool HasInner<T>(Exception e)
        where T : Exception
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is T)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The innermost exception's type and message: socket and TLS errors, never request or response content.</summary>
    private static string Describe(Exception e)
    {
        var x = e;
        while (x.InnerException is not null)
        {
            x = x.InnerException;
        }

        return x is SocketException s ? $"{s.SocketErrorCode}" : $"{x.GetType().Name}: {x.Message}";
    }

    /// <summary>Reads the body into a pooled buffer, failing as soon as it (declared or read) exceeds <paramref name="max"/>.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpResponseMessage response, long max, CancellationToken ct)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared > max)
        {
            throw AgentException.Protocol("body", $"the answer declares {declared} bytes, more than {max}");
        }

        var limit = (int)Math.Min(max, Array.MaxLength);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(declared ?? 16 * 1024, limit) + 1);
        var length = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length > limit)
                        {
                            throw AgentException.Protocol("body", $"the answer is larger than {max} bytes");
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)limit + 1));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    var n = await stream.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    length += n;
                    if (length > limit)
                    {
                        throw AgentException.Protocol("body", $"the answer is larger than {max} bytes");
                    }
                }
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static async Task<(string? Type, string? Field)> ReadProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var (buffer, length) = await ReadBodyAsync(response, 64 * 1024, ct).ConfigureAwait(false);
            try
            {
                return AgentResponses.Problem(buffer.AsMemory(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (AgentException)
        {
            return (null, null);
        }
    }

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(output))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static bool FixedTimeEqualsHex(string a, string b) =>
        a.Length == b.Length && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(a), Convert.FromHexString(b));

    /// <summary>One pooled handler and what its certificate callback saw.</summary>
    private sealed class Channel(string pin) : IDisposable
    {
        public long Mismatches;

        public string Pin { get; } = pin;

        public HttpMessageInvoker Invoker { get; set; } = null!;

        /// <summary>Fingerprint of the last certificate refused (pinned) or seen (first contact).</summary>
        public volatile string? LastPresented;

        public void Dispose() => Invoker?.Dispose();
    }
}
