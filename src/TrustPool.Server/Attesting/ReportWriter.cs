using System.Threading.Channels;
using TrustPool.Server.Audit;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Attesting;

/// <summary>One report and, when its quote verified, the host's new last-seen TPM clock, written in one transaction.</summary>
public sealed record ReportWrite(ReportRecord Report, byte[]? ClockInfo);

/// <summary>
/// Group commit for reports: concurrent attestations hand their writes to one writer, which commits whatever is
/// queued (up to <see cref="MaxBatch"/>) in one transaction. Each caller's task completes only once its own report
/// is durable, so a report is never served before it is stored. A failing batch is retried one write at a time so
/// one bad row cannot lose the others.
/// </summary>
public sealed class ReportWriter : IAsyncDisposable
{
    public const int MaxBatch = 256;

    private readonly ITrustStore _store;
    private readonly Channel<(ReportWrite Write, TaskCompletionSource Done)> _queue =
        Channel.CreateBounded<(ReportWrite, TaskCompletionSource)>(new BoundedChannelOptions(16_384) { SingleReader = true });
    private readonly Task _loop;

    public ReportWriter(ITrustStore store)
    {
        _store = store;
        _loop = Task.Run(RunAsync);
    }

    public long Batches { get; private set; }

    public async Task WriteAsync(ReportWrite write, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync((write, done), ct);
        await done.Task.WaitAsync(ct);
    }

    private async Task RunAsync()
    {
        var batch = new List<(ReportWrite Write, TaskCompletionSource Done)>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                await CommitAsync([.. batch.Select(b => b.Write)]);
                Batches++;
                foreach (var b in batch)
                {
                    b.Done.TrySetResult();
                }
            }
            catch (Exception) when (batch.Count > 1)
            {
                foreach (var b in batch)
                {
                    try
                    {
                        await CommitAsync([b.Write]);
                        b.Done.TrySetResult();
                    }
                    catch (Exception e)
                    {
                        b.Done.TrySetException(e);
                    }
                }
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(e);
            }
        }
    }

    /// <summary>
    /// One transaction for the batch: on PostgreSQL one round trip for all rows (<see cref="ReportBatches"/>), on
    /// SQLite the prepared insert row by row.
    /// </summary>
    private async Task CommitAsync(IReadOnlyList<ReportWrite> writes)
    {
        await using var tx = await _store.BeginAsync();
        var clocks = new List<(string, string?, byte[])>(writes.Count);
        foreach (var w in writes)
        {
            if (w.ClockInfo is not null)
            {
                clocks.Add((w.Report.Host, w.Report.Enrollment, w.ClockInfo));
            }
        }

        await tx.WriteReportsAsync([.. writes.Select(w => w.Report)], clocks);
        tx.Audit([.. writes.Select(w => AuditRecords.ReportIssued(w.Report))]);
        await tx.CommitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }
}
