using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TrustPool.Attestation;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Events;

/// <summary>A host's trust changed (first report included: <see cref="Previous"/> is null then).</summary>
public sealed record TrustChange(string Host, TrustLevel? Previous, TrustLevel Current, string ReportId, DateTimeOffset At, IReadOnlyList<string> Reasons);

/// <summary>
/// Raises trust changes: a structured log line, in-process subscribers (<see cref="Changed"/>), and webhooks.
/// Webhook bodies are signed with HMAC-SHA256 under the subscription's secret (header
/// <c>X-TrustPool-Signature: sha256=HEX</c>), delivered in the background with retries so attestation never
/// waits for a receiver.
/// </summary>
public sealed class TrustEvents : IAsyncDisposable
{
    public const string SignatureHeader = "X-TrustPool-Signature";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly ITrustStore _store;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly Channel<TrustChange> _queue = Channel.CreateBounded<TrustChange>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Task _delivery;
    private readonly CancellationTokenSource _stop = new();

    public TrustEvents(ITrustStore store, ILogger logger, HttpMessageHandler? handler = null)
    {
        _store = store;
        _logger = logger;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(10) };
        _delivery = Task.Run(DeliverAsync);
    }

    /// <summary>In-process subscribers (audit log, Placement sync). Called on the attesting thread: keep it quick.</summary>
    public event Action<TrustChange>? Changed;

    /// <summary>
    /// In-process subscribers told that an enrollment of a host ended (host name, enrollment id): the host was removed
    /// or enrolled again, and no report of that enrollment counts anywhere any more, including one an attestation
    /// still in flight stores afterwards.
    /// </summary>
    public event Action<string, string?>? EnrollmentEnded;

    public long Delivered { get; private set; }

    public void PublishEnrollmentEnded(string host, string? enrollment)
    {
        foreach (var subscriber in EnrollmentEnded?.GetInvocationList() ?? [])
        {
            try
            {
                ((Action<string, string?>)subscriber)(host, enrollment);
            }
            catch (Exception e)
            {
                ServerLog.SubscriberFailed(_logger, e);
            }
        }
    }

    public void Publish(TrustChange change)
    {
        ServerLog.TrustChanged(_logger, change.Host, change.Previous?.ToString() ?? "none", change.Current.ToString(), change.ReportId,
            string.Join("; ", change.Reasons));
        // Each subscriber on its own: one that throws (a bug) must not keep the others (SIEM, Placement sync, the
        // trust gauge) from hearing of the change.
        foreach (var subscriber in Changed?.GetInvocationList() ?? [])
        {
            try
            {
                ((Action<TrustChange>)subscriber)(change);
            }
            catch (Exception e)
            {
                ServerLog.SubscriberFailed(_logger, e);
            }
        }

        _queue.Writer.TryWrite(change);
    }

    public static string Sign(byte[] secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var change in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                IReadOnlyList<WebhookRecord> hooks;
                try
                {
                    hooks = await _store.ListWebhooksAsync(_stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ServerLog.WebhookFailed(_logger, "-", "(store)", e.Message);
                    continue;
                }

                var body = JsonSerializer.SerializeToUtf8Bytes(new { type = "trust.changed", change.Host, previous = change.Previous, current = change.Current, change.ReportId, change.At, change.Reasons }, s_json);
                foreach (var hook in hooks)
                {
                    if (!Subscribed(hook, "trust.changed"))
                    {
                        continue;
                    }

                    await SendAsync(hook, body);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static bool Subscribed(WebhookRecord hook, string type)
    {
        var events = JsonSerializer.Deserialize<string[]>(hook.EventsJson) ?? [];
        return events.Length == 0 || events.Contains(type) || events.Contains("*");
    }

    private async Task SendAsync(WebhookRecord hook, byte[] body)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = content };
                request.Headers.Add(SignatureHeader, Sign(hook.Secret, body));
                using var response = await _http.SendAsync(request, _stop.Token);
                if (response.IsSuccessStatusCode)
                {
                    Delivered++;
                    return;
                }

                ServerLog.WebhookFailed(_logger, hook.Id, Origin(hook.Url) ?? "(invalid URL)", $"HTTP {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !_stop.IsCancellationRequested)
            {
                ServerLog.WebhookFailed(_logger, hook.Id, Origin(hook.Url) ?? "(invalid URL)", e.Message);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500 << attempt), _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        try
        {
            await _delivery;
        }
        catch (OperationCanceledException)
        {
        }

        _http.Dispose();
        _stop.Dispose();
    }

    /// <summary>
    /// The scheme, host and port of a webhook URL (null when it is not an absolute URL): all of it that may appear in a
    /// log or an audit record. Receivers often carry their own credential in the user info, the path
    /// (<c>/services/T000/B000/secret</c>) or the query.
    /// </summary>
    public static string? Origin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped) : null;
}
