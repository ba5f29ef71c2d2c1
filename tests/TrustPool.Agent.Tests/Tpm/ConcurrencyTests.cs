using System.Net;
using System.Security.Cryptography;
using TrustPool.Agent.Tests.Support;
using TrustPool.Tpm.Software;

namespace TrustPool.Agent.Tests.Tpm;

/// <summary>The TPM sees one command at a time however many requests arrive; over the queue bound clients get 503 + Retry-After.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task FiftyConcurrentQuotes_AllSucceed_TpmSeesThemOneAtATime()
    {
        var tpm = new RecordingTpm(SoftwareTpm.CreateInMemory(), TimeSpan.FromMilliseconds(1));
        await using var agent = await AgentHarness.StartAsync(tpm);
        using var client = agent.Client(maxConnections: 50);
        var statuses = await FireAsync(client, 50);
        Assert.All(statuses, s => Assert.True(s.Status == HttpStatusCode.OK, s.Body));
        Assert.Equal(1, tpm.MaxConcurrent);
        Assert.Equal(50, tpm.Quotes);
    }

    [Fact]
    public async Task FiftyConcurrentQuotes_SmallQueue_OkOr503WithRetryAfter()
    {
        var tpm = new RecordingTpm(SoftwareTpm.CreateInMemory(), TimeSpan.FromMilliseconds(20));
        await using var agent = await AgentHarness.StartAsync(tpm, new AgentOptions { MaxQueuedTpmRequests = 4 });
        using var client = agent.Client(maxConnections: 50);
        var statuses = await FireAsync(client, 50);
        Assert.All(statuses, s => Assert.True(s.Status == HttpStatusCode.OK || (s.Status == HttpStatusCode.ServiceUnavailable && s.RetryAfter), s.ToString()));
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.ServiceUnavailable);
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.OK);
        Assert.Equal(1, tpm.MaxConcurrent);
        Assert.Equal(statuses.Count(s => s.Status == HttpStatusCode.OK), tpm.Quotes);
    }

    internal static async Task<(HttpStatusCode Status, bool RetryAfter, string Body)[]> FireAsync(AgentClient client, int n)
    {
        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, n).Select(async _ =>
        {
            await start.WaitAsync();
            var body = "{\"nonce\":\"" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\",\"selection\":{\"sha256\":[0,1,2,3,4,5,6,7]}}";
            using var r = await client.PostAsync("v1/quote", body);
            var text = r.IsSuccessStatusCode ? "" : await r.Content.ReadAsStringAsync();
            return (r.StatusCode, r.Headers.RetryAfter is not null, text);
        }).ToArray();
        start.Release(n);
        return await Task.WhenAll(tasks);
    }
}
