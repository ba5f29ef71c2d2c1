using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TrustPool.Attestation;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Attesting;

/// <summary>
/// A trusted report is a verdict against the policy and the host's tags of its moment. When a committed change can
/// narrow that verdict (a pool or baseline written or deleted, a host's tags replaced), the hosts whose current
/// report is <c>trusted</c> are attested again at once instead of at their next polling slot (or never, with
/// <c>--interval 0</c>), so a withdrawn baseline or a tag removed stops a host being trusted within one attestation.
/// Requests are coalesced: a burst of changes causes one pass. Runs in the background on the instance that made the
/// change; other instances sharing the database see the new reports.
/// </summary>
public sealed class Reattestation : IAsyncDisposable
{
    /// <summary>The key of a request for every trusted host.</summary>
    private const string All = "";

    private readonly ITrustStore _store;
    private readonly AttestationService _attestations;
    private readonly ServerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<string> _requests = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private int _pending;

    public Reattestation(ITrustStore store, AttestationService attestations, ServerOptions options, ILogger logger)
    {
        _store = store;
        _attestations = attestations;
        _options = options;
        _logger = logger;
        _worker = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Passes completed (for tests and /readyz-style diagnostics).</summary>
    public long Passes { get; private set; }

    /// <summary>The policy changed: every host trusted now is attested again.</summary>
    public void PolicyChanged() => Request(All);

    /// <summary>One host's asserted data (tags) changed: that host is attested again if it is trusted now.</summary>
    public void HostChanged(string name) => Request(name);

    /// <summary>
    /// Completes once every request made so far has had its pass (or <paramref name="timeout"/> ran out: false). Tests use
    /// it to see a change's re-attestations before they look at the reports or the audit log.
    /// </summary>
    internal async Task<bool> WhenIdleAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _pending) > 0)
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    private void Request(string name)
    {
        Interlocked.Increment(ref _pending);
        if (!_requests.Writer.TryWrite(name))
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var reader = _requests.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                var names = new HashSet<string>(StringComparer.Ordinal);
                var all = false;
                var taken = 0;
                while (reader.TryRead(out var name))
                {
                    all |= name.Length == 0;
                    names.Add(name);
                    taken++;
                }

                try
                {
                    await PassAsync(all ? null : names, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The regular polling round attests these hosts later; their reports still expire on their own.
                    ServerLog.ReattestationFailed(_logger, e);
                }

                Passes++;
                Interlocked.Add(ref _pending, -taken);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task PassAsync(HashSet<string>? only, CancellationToken ct)
    {
        var latest = await _store.GetLatestReportsAsync(ct);
        var due = latest.Where(kv => (only is null || only.Contains(kv.Key)) && _attestations.CurrentTrust(kv.Value) == TrustLevel.Trusted)
            .Select(kv => kv.Key).ToList();
        if (due.Count == 0)
        {
            return;
        }

        ServerLog.Reattesting(_logger, due.Count, only is null ? "policy changed" : "host tags changed");
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = ct }, async (name, token) =>
        {
            try
            {
                await _attestations.AttestAsync(name, token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                ServerLog.AttestationFailed(_logger, name, e);
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _stop.CancelAsync();
        try
        {
            await _worker;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
