using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using TrustPool.Attestation;
using TrustPool.Server.Events;
using TrustPool.Server.Storage;
using TrustPool.Server.Tests.Fakes;

namespace TrustPool.Server.Tests.Events;

/// <summary>TrustEvents: in-process subscribers and signed webhook delivery, through a fake HTTP handler (no network).</summary>
public sealed class TrustEventsDeliveryTests
{
    private static readonly TrustChange s_change = new("node1", TrustLevel.Trusted, TrustLevel.Untrusted, "r1",
        new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), ["PCR[0] sha256 expected 00.. got 11.."]);

    private sealed class Recorder : HttpMessageHandler
    {
        public TaskCompletionSource<(HttpRequestMessage Request, byte[] Body)> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            var body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
            First.TrySetResult((request, body));
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }

    private static async Task AddHookAsync(ServiceBed bed, string id, byte[] secret, string eventsJson)
    {
        await using var tx = await bed.Store.BeginAsync();
        await tx.InsertWebhookAsync(new WebhookRecord(id, $"https://hooks.example/{id}", secret, eventsJson, bed.Time.GetUtcNow()));
        await tx.CommitAsync();
    }

    [Fact]
    public void Sign_HmacSha256OfBodyWithSecret_Hex()
    {
        byte[] secret = [1, 2, 3];
        byte[] body = "{}"u8.ToArray();
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body)), TrustEvents.Sign(secret, body));
        Assert.NotEqual(TrustEvents.Sign(secret, body), TrustEvents.Sign([1, 2, 4], body));
    }

    [Fact]
    public async Task Publish_SubscribedWebhook_ReceivesSignedTrustChanged()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var secret = RandomNumberGenerator.GetBytes(32);
        await AddHookAsync(bed, "h1", secret, """["trust.changed"]""");
        var recorder = new Recorder();
        await using var events = new TrustEvents(bed.Store, NullLogger.Instance, recorder);

        events.Publish(s_change);

        var (request, body) = await recorder.First.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("https://hooks.example/h1", request.RequestUri!.ToString());
        Assert.Equal(TrustEvents.Sign(secret, body), Assert.Single(request.Headers.GetValues(TrustEvents.SignatureHeader)));
        using var json = JsonDocument.Parse(body);
        Assert.Equal("trust.changed", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("node1", json.RootElement.GetProperty("host").GetString());
        Assert.Equal("trusted", json.RootElement.GetProperty("previous").GetString());
        Assert.Equal("untrusted", json.RootElement.GetProperty("current").GetString());
        Assert.Equal("r1", json.RootElement.GetProperty("reportId").GetString());
    }

    [Fact]
    public async Task Publish_WebhookOfOtherEventsOnly_NotCalled()
    {
        await using var bed = await ServiceBed.OpenAsync();
        await AddHookAsync(bed, "other", [9], """["host.removed"]""");
        await AddHookAsync(bed, "all", [7], """["*"]""");
        var recorder = new Recorder();
        await using (var events = new TrustEvents(bed.Store, NullLogger.Instance, recorder))
        {
            events.Publish(s_change);
            var (request, _) = await recorder.First.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.EndsWith("/all", request.RequestUri!.AbsolutePath, StringComparison.Ordinal);
        }

        Assert.Equal(1, recorder.Calls);
    }

    [Fact]
    public async Task Publish_ThrowingSubscriber_OthersStillToldAndWebhookDelivered()
    {
        await using var bed = await ServiceBed.OpenAsync();
        await AddHookAsync(bed, "h1", [1], "[]");
        var recorder = new Recorder();
        await using var events = new TrustEvents(bed.Store, NullLogger.Instance, recorder);
        TrustChange? seen = null;
        events.Changed += _ => throw new InvalidOperationException("subscriber bug");
        events.Changed += c => seen = c;

        events.Publish(s_change);

        await recorder.First.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // A multicast delegate stops at the first exception: later subscribers are not called, publication goes on.
        Assert.Null(seen);
    }

    [Fact]
    public async Task PublishEnrollmentEnded_TellsSubscribersHostAndEnrollment()
    {
        await using var bed = await ServiceBed.OpenAsync();
        await using var events = new TrustEvents(bed.Store, NullLogger.Instance, new Recorder());
        (string Host, string? Enrollment)? seen = null;
        events.EnrollmentEnded += (h, e) => seen = (h, e);

        events.PublishEnrollmentEnded("node1", "enr-1");

        Assert.Equal(("node1", "enr-1"), seen);
    }
}
