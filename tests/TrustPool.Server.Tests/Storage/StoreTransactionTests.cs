using TrustPool.Server.Audit;
using TrustPool.Server.Storage;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Storage;

/// <summary>The unit of work's commit: audit records inside it, actions after it, nothing added once it is over.</summary>
public sealed class StoreTransactionTests
{
    private static async Task<ITrustStore> OpenAsync() =>
        await TrustStore.OpenAsync("sqlite:tx.db", TestTemp.CreateDirectory("store-tx-").FullName);

    [Fact]
    public async Task Commit_AppendsRecordsInOrder_ThenRunsActions_ThenPublishes()
    {
        await using var store = await OpenAsync();
        var steps = new List<string>();
        store.AuditCommitted += entries => steps.Add($"published {entries.Count}");
        await using var tx = await store.BeginAsync();
        tx.Audit(AuditRecords.HostRemoved(null, "a", null, DateTimeOffset.UnixEpoch), AuditRecords.HostRemoved(null, "b", null, DateTimeOffset.UnixEpoch));
        tx.OnCommitted(() => steps.Add("action"));
        var entries = await tx.CommitAsync();

        Assert.Equal([0L, 1L], entries.Select(e => e.Index));
        Assert.Equal(["action", "published 2"], steps);
        await using var read = await store.BeginAsync();
        Assert.Equal(2, await read.GetAuditSizeAsync());
    }

    [Fact]
    public async Task ActionThatThrows_OthersStillRun_EntriesStillPublished_FailureSurfaces()
    {
        await using var store = await OpenAsync();
        var published = 0;
        store.AuditCommitted += e => published += e.Count;
        var ran = false;
        await using var tx = await store.BeginAsync();
        tx.Audit(AuditRecords.HostRemoved(null, "a", null, DateTimeOffset.UnixEpoch));
        tx.OnCommitted(() => throw new InvalidOperationException("a bug"));
        tx.OnCommitted(() => ran = true);

        var e = await Assert.ThrowsAsync<AggregateException>(tx.CommitAsync);
        Assert.Contains("committed", e.Message, StringComparison.Ordinal);
        Assert.True(ran);
        Assert.Equal(1, published);
        await using var read = await store.BeginAsync();
        Assert.Equal(1, await read.GetAuditSizeAsync());
    }

    [Fact]
    public async Task AfterCommit_AuditOnCommittedAndCommit_Refused()
    {
        await using var store = await OpenAsync();
        await using var tx = await store.BeginAsync();
        await tx.CommitAsync();

        Assert.Throws<InvalidOperationException>(() => tx.Audit(AuditRecords.HostRemoved(null, "late", null, DateTimeOffset.UnixEpoch)));
        Assert.Throws<InvalidOperationException>(() => tx.OnCommitted(() => { }));
        await Assert.ThrowsAsync<InvalidOperationException>(tx.CommitAsync);
    }

    [Fact]
    public async Task Rollback_NeitherRecordsNorActions()
    {
        await using var store = await OpenAsync();
        var ran = false;
        await using (var tx = await store.BeginAsync())
        {
            tx.Audit(AuditRecords.HostRemoved(null, "a", null, DateTimeOffset.UnixEpoch));
            tx.OnCommitted(() => ran = true);
        }

        Assert.False(ran);
        await using var read = await store.BeginAsync();
        Assert.Equal(0, await read.GetAuditSizeAsync());
    }
}
