using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Dapper;
using TrustPool.Server.Storage;
using Xunit.Abstractions;

namespace TrustPool.Server.Tests.Storage;

/// <summary>
/// Every behaviour of <see cref="ITrustStore"/>, run once per provider by the concrete subclasses.
/// Times are whole milliseconds: the store keeps unix milliseconds.
/// </summary>
public abstract class TrustStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_000);
    private readonly List<ITrustStore> _opened = [];

    protected TrustStoreTests(ITestOutputHelper output)
    {
        Output = output;
    }

    protected ITestOutputHelper Output { get; }

    protected abstract string ExpectedProvider { get; }

    /// <summary>The "sqlite:..." / "postgres:..." string of this test's own empty database; skips when unavailable.</summary>
    protected abstract Task<(string Database, string DataDirectory)> GetDatabaseAsync();

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }
    }

    protected async Task<ITrustStore> OpenAsync()
    {
        var (database, dataDirectory) = await GetDatabaseAsync();
        var store = await TrustStore.OpenAsync(database, dataDirectory);
        _opened.Add(store);
        return store;
    }

    private static HostRecord Host(string name, string state = "enrolled") => new(
        name,
        $"https://{name}:8443",
        "sha256:" + name,
        [1, 2, 3],
        null,
        [4, 5, 6],
        [0, 11, 7, 8],
        "tofu",
        state,
        "{}",
        s_t0,
        null,
        0,
        null,
        null,
        Enrollment(name));

    // Every test host has one enrollment, and every test report belongs to it (a report is current only then).
    private static string Enrollment(string host) => "enrollment-of-" + host;

    private static ReportRecord Report(string id, string host, DateTimeOffset verifiedAt) =>
        new(id, host, "trusted", verifiedAt, verifiedAt, verifiedAt.AddMinutes(10), "jws." + id, "{\"id\":\"" + id + "\"}", Enrollment(host));

    private static void AssertHost(HostRecord expected, HostRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.AgentUrl, actual.AgentUrl);
        Assert.Equal(expected.TlsFingerprint, actual.TlsFingerprint);
        Assert.Equal(expected.EkPublic, actual.EkPublic);
        Assert.Equal(expected.EkCertificate, actual.EkCertificate);
        Assert.Equal(expected.AkPublic, actual.AkPublic);
        Assert.Equal(expected.AkName, actual.AkName);
        Assert.Equal(expected.EkTrust, actual.EkTrust);
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.TagsJson, actual.TagsJson);
        Assert.Equal(expected.EnrolledAt, actual.EnrolledAt);
        Assert.Equal(expected.LastClockInfo, actual.LastClockInfo);
        Assert.Equal(expected.ImaOffset, actual.ImaOffset);
        Assert.Equal(expected.ImaStateJson, actual.ImaStateJson);
        Assert.Equal(expected.InventoryJson, actual.InventoryJson);
        Assert.Equal(expected.EnrollmentId, actual.EnrollmentId);
        Assert.Equal(expected.EkKey, actual.EkKey);
        Assert.Equal(expected.AkKey, actual.AkKey);
    }

    private static async Task InTransactionAsync(ITrustStore store, Func<IStoreTransaction, Task> work)
    {
        await using var tx = await store.BeginAsync();
        await work(tx);
        await tx.CommitAsync();
    }

    [SkippableFact]
    public async Task OpenAsync_ReportsProvider()
    {
        var store = await OpenAsync();
        Assert.Equal(ExpectedProvider, store.Provider);
        await using var tx = await store.BeginAsync();
        Assert.Equal(ExpectedProvider, tx.Provider);
    }

    [SkippableFact]
    public async Task Hosts_InsertGetUpdateListDelete_RoundTrips()
    {
        var store = await OpenAsync();
        var host = Host("node-1");
        await InTransactionAsync(store, tx => tx.InsertHostAsync(host));
        AssertHost(host, await store.GetHostAsync("node-1"));
        Assert.Null(await store.GetHostAsync("node-2"));

        var updated = host with
        {
            EkCertificate = [0x30, 0x82, 0x01],
            State = "re-enrollment-required",
            EkTrust = "ca",
            TagsJson = "{\"rack\":\"a1\"}",
            LastClockInfo = [9, 9, 9],
            ImaOffset = 123_456_789_012,
            ImaStateJson = "{\"pcr10\":\"00\"}",
            InventoryJson = "{\"cpu\":\"x\"}",
            EnrolledAt = s_t0.AddDays(1),
        };
        await InTransactionAsync(store, async tx =>
        {
            AssertHost(host, await tx.GetHostAsync("node-1"));
            await tx.UpdateHostAsync(updated);
            AssertHost(updated, await tx.GetHostAsync("node-1"));
        });
        AssertHost(updated, await store.GetHostAsync("node-1"));

        await InTransactionAsync(store, tx => tx.InsertHostAsync(Host("node-0")));
        Assert.Equal(["node-0", "node-1"], (await store.ListHostsAsync()).Select(h => h.Name));

        await InTransactionAsync(store, async tx =>
        {
            Assert.True(await tx.DeleteHostAsync("node-1"));
            Assert.False(await tx.DeleteHostAsync("node-1"));
        });
        Assert.Null(await store.GetHostAsync("node-1"));
        Assert.Single(await store.ListHostsAsync());
    }

    [SkippableFact]
    public async Task InsertHost_DuplicateName_ThrowsConflict()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, tx => tx.InsertHostAsync(Host("dup")));
        await using var tx = await store.BeginAsync();
        await Assert.ThrowsAsync<StoreConflictException>(() => tx.InsertHostAsync(Host("dup") with { AgentUrl = "https://other" }));
    }

    [SkippableFact]
    public async Task UpdateHost_Missing_ThrowsNotFound()
    {
        var store = await OpenAsync();
        await using var tx = await store.BeginAsync();
        await Assert.ThrowsAsync<StoreNotFoundException>(() => tx.UpdateHostAsync(Host("ghost")));
    }

    [SkippableFact]
    public async Task DeleteHost_RemovesItsNonces_KeepsReports()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertHostAsync(Host("h"));
            await tx.AddNonceAsync([1, 1], "h", s_t0.AddMinutes(5));
            await tx.AddNonceAsync([2, 2], "other", s_t0.AddMinutes(5));
            await tx.InsertReportAsync(Report("r1", "h", s_t0));
        });
        await InTransactionAsync(store, async tx => Assert.True(await tx.DeleteHostAsync("h")));

        Assert.False(await store.ConsumeNonceAsync([1, 1], "h", s_t0));
        Assert.True(await store.ConsumeNonceAsync([2, 2], "other", s_t0));
        Assert.NotNull(await store.GetReportAsync("r1"));
        Assert.Single(await store.ListReportsAsync("h", 10));
        // Issue 13: a removed host has no current report (it used to be served as the latest until it expired).
        Assert.Null(await store.GetLatestReportAsync("h"));
        Assert.False((await store.GetLatestReportsAsync()).ContainsKey("h"));
    }

    [SkippableFact]
    public async Task Baselines_AddVersions_NumberedOneTwoThree_LatestByDefault()
    {
        var store = await OpenAsync();
        var versions = new List<int>();
        for (var i = 1; i <= 3; i++)
        {
            var n = i;
            await InTransactionAsync(store, async tx =>
                versions.Add(await tx.AddBaselineVersionAsync(new BaselineRecord("web", 99, "pcr", $"{{\"v\":{n}}}", "sha256:" + n, s_t0.AddMinutes(n)))));
        }

        await InTransactionAsync(store, async tx =>
            Assert.Equal(1, await tx.AddBaselineVersionAsync(new BaselineRecord("db", 0, "ima", "{}", "sha256:db", s_t0))));

        Assert.Equal([1, 2, 3], versions);
        var latest = await store.GetBaselineAsync("web");
        Assert.Equal(new BaselineRecord("web", 3, "pcr", "{\"v\":3}", "sha256:3", s_t0.AddMinutes(3)), latest);
        Assert.Equal("{\"v\":2}", (await store.GetBaselineAsync("web", 2))?.DocumentJson);
        Assert.Null(await store.GetBaselineAsync("web", 4));
        Assert.Null(await store.GetBaselineAsync("nope"));
        Assert.Equal([1, 2, 3], (await store.ListBaselineVersionsAsync("web")).Select(b => b.Version));

        var all = await store.ListBaselinesAsync();
        Assert.Equal([("db", 1), ("web", 3)], all.Select(b => (b.Name, b.Version)));

        await InTransactionAsync(store, async tx =>
        {
            Assert.True(await tx.DeleteBaselineAsync("web"));
            Assert.False(await tx.DeleteBaselineAsync("web"));
        });
        Assert.Empty(await store.ListBaselineVersionsAsync("web"));
        Assert.Single(await store.ListBaselinesAsync());

        // A name deleted and created again starts over at 1.
        await InTransactionAsync(store, async tx =>
            Assert.Equal(1, await tx.AddBaselineVersionAsync(new BaselineRecord("web", 0, "pcr", "{}", "d", s_t0))));
    }

    [SkippableFact]
    public async Task Pools_Upsert_IncrementsVersion()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            Assert.Equal(1, await tx.UpsertPoolAsync(new PoolRecord("gpu", 0, "{\"a\":1}", s_t0)));
            Assert.Equal(1, await tx.UpsertPoolAsync(new PoolRecord("cpu", 7, "{}", s_t0)));
        });
        await InTransactionAsync(store, async tx =>
            Assert.Equal(2, await tx.UpsertPoolAsync(new PoolRecord("gpu", 0, "{\"a\":2}", s_t0.AddHours(1)))));

        Assert.Equal(new PoolRecord("gpu", 2, "{\"a\":2}", s_t0.AddHours(1)), await store.GetPoolAsync("gpu"));
        Assert.Equal(["cpu", "gpu"], (await store.ListPoolsAsync()).Select(p => p.Name));
        Assert.Null(await store.GetPoolAsync("none"));

        await InTransactionAsync(store, async tx =>
        {
            Assert.True(await tx.DeletePoolAsync("gpu"));
            Assert.False(await tx.DeletePoolAsync("gpu"));
        });
        Assert.Null(await store.GetPoolAsync("gpu"));
    }

    [SkippableFact]
    public async Task Reports_History_NewestFirst_LatestPerHost()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertHostAsync(Host("a"));
            await tx.InsertHostAsync(Host("b"));
            // Inserted out of order on purpose.
            await tx.InsertReportAsync(Report("a2", "a", s_t0.AddMinutes(2)));
            await tx.InsertReportAsync(Report("a1", "a", s_t0.AddMinutes(1)));
            await tx.InsertReportAsync(Report("a4", "a", s_t0.AddMinutes(4)));
            await tx.InsertReportAsync(Report("a3", "a", s_t0.AddMinutes(3)));
            await tx.InsertReportAsync(Report("b1", "b", s_t0.AddMinutes(10)));
        });

        Assert.Equal(Report("a4", "a", s_t0.AddMinutes(4)), await store.GetReportAsync("a4"));
        Assert.Null(await store.GetReportAsync("zz"));
        Assert.Equal(["a4", "a3", "a2", "a1"], (await store.ListReportsAsync("a", 10)).Select(r => r.Id));
        Assert.Equal(["a4", "a3"], (await store.ListReportsAsync("a", 2)).Select(r => r.Id));
        Assert.Equal(["a2", "a1"], (await store.ListReportsAsync("a", 10, s_t0.AddMinutes(3))).Select(r => r.Id));
        Assert.Empty(await store.ListReportsAsync("c", 10));

        Assert.Equal("a4", (await store.GetLatestReportAsync("a"))?.Id);
        Assert.Null(await store.GetLatestReportAsync("c"));
        var latest = await store.GetLatestReportsAsync();
        Assert.Equal(2, latest.Count);
        Assert.Equal("a4", latest["a"].Id);
        Assert.Equal(Report("b1", "b", s_t0.AddMinutes(10)), latest["b"]);

        await using var dup = await store.BeginAsync();
        await Assert.ThrowsAsync<StoreConflictException>(() => dup.InsertReportAsync(Report("a1", "a", s_t0)));
    }

    [SkippableFact]
    public async Task ReportsSince_CountsDistinctTrustedHostsAndFindsOneNotTrusted()
    {
        var store = await OpenAsync();
        Assert.Equal(0, await store.CountTrustedHostsSinceAsync(s_t0));
        Assert.Null(await store.FindNotTrustedReportSinceAsync(s_t0));
        await InTransactionAsync(store, async tx =>
        {
            foreach (var h in new[] { "a", "b", "c" })
            {
                await tx.InsertHostAsync(Host(h));
            }

            await tx.InsertReportAsync(Report("a0", "a", s_t0.AddMinutes(-1)));
            await tx.InsertReportAsync(Report("a1", "a", s_t0));
            await tx.InsertReportAsync(Report("a2", "a", s_t0.AddMinutes(1)));
            await tx.InsertReportAsync(Report("b1", "b", s_t0.AddMinutes(2)));
            await tx.InsertReportAsync(Report("c0", "c", s_t0.AddMinutes(-2)) with { Trust = "untrusted" });
        });

        // Since is inclusive; a host counts once however many trusted reports it has.
        Assert.Equal(2, await store.CountTrustedHostsSinceAsync(s_t0));
        Assert.Equal(1, await store.CountTrustedHostsSinceAsync(s_t0.AddMinutes(2)));
        Assert.Null(await store.FindNotTrustedReportSinceAsync(s_t0));
        var untrusted = await store.FindNotTrustedReportSinceAsync(s_t0.AddMinutes(-5));
        Assert.Equal(("c0", "c", "untrusted"), (untrusted?.Id, untrusted?.Host, untrusted?.Trust));
    }

    [SkippableFact]
    public async Task ConsumeNonce_SecondUse_ReturnsFalse()
    {
        var store = await OpenAsync();
        byte[] nonce = [0xde, 0xad, 0xbe, 0xef];
        await InTransactionAsync(store, tx => tx.AddNonceAsync(nonce, "h", s_t0.AddMinutes(1)));
        Assert.True(await store.ConsumeNonceAsync(nonce, "h", s_t0));
        Assert.False(await store.ConsumeNonceAsync(nonce, "h", s_t0));
        Assert.False(await store.ConsumeNonceAsync([1, 2, 3], "h", s_t0));
    }

    [SkippableFact]
    public async Task ConsumeNonce_Expired_ReturnsFalse()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.AddNonceAsync([1], "h", s_t0);
            await tx.AddNonceAsync([2], "h", s_t0.AddMilliseconds(1));
        });
        Assert.False(await store.ConsumeNonceAsync([1], "h", s_t0)); // expires exactly now: expired
        Assert.True(await store.ConsumeNonceAsync([2], "h", s_t0));
    }

    [SkippableFact]
    public async Task ConsumeNonce_OtherHost_ReturnsFalse_AndLeavesIt()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, tx => tx.AddNonceAsync([7, 7], "h1", s_t0.AddMinutes(1)));
        Assert.False(await store.ConsumeNonceAsync([7, 7], "h2", s_t0));
        Assert.True(await store.ConsumeNonceAsync([7, 7], "h1", s_t0));
    }

    [SkippableFact]
    public async Task ConsumeNonce_Concurrent_ExactlyOneWins()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, tx => tx.AddNonceAsync([5], "h", s_t0.AddMinutes(1)));
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.ConsumeNonceAsync([5], "h", s_t0))));
        Assert.Equal(1, results.Count(r => r));
    }

    [SkippableFact]
    public async Task PurgeExpiredNonces_RemovesOnlyExpired()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.AddNonceAsync([1], "h", s_t0.AddMinutes(-1));
            await tx.AddNonceAsync([2], "h", s_t0);
            await tx.AddNonceAsync([3], "h", s_t0.AddMinutes(1));
        });
        Assert.Equal(2, await store.PurgeExpiredNoncesAsync(s_t0));
        Assert.Equal(0, await store.PurgeExpiredNoncesAsync(s_t0));
        Assert.True(await store.ConsumeNonceAsync([3], "h", s_t0));

        await using var tx = await store.BeginAsync();
        await tx.AddNonceAsync([9], "h", s_t0);
        await Assert.ThrowsAsync<StoreConflictException>(() => tx.AddNonceAsync([9], "h2", s_t0));
    }

    [SkippableFact]
    public async Task Tokens_FindByHash_Revoke()
    {
        var store = await OpenAsync();
        var token = new TokenRecord("t1", "ci", "operator", [1, 2, 3, 4], s_t0, null);
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertTokenAsync(token);
            await tx.InsertTokenAsync(new TokenRecord("t2", "admin", "admin", [5, 6], s_t0.AddSeconds(1), null));
        });

        var found = await store.FindTokenByHashAsync([1, 2, 3, 4]);
        Assert.NotNull(found);
        Assert.Equal(("t1", "ci", "operator", s_t0, (DateTimeOffset?)null), (found.Id, found.Name, found.Role, found.CreatedAt, found.RevokedAt));
        Assert.Equal(token.Hash, found.Hash);
        Assert.Null(await store.FindTokenByHashAsync([1, 2, 3]));

        await InTransactionAsync(store, async tx =>
        {
            Assert.True(await tx.RevokeTokenAsync("t1", s_t0.AddDays(1)));
            Assert.False(await tx.RevokeTokenAsync("t1", s_t0.AddDays(2)));
            Assert.False(await tx.RevokeTokenAsync("missing", s_t0));
        });
        Assert.Equal(s_t0.AddDays(1), (await store.FindTokenByHashAsync([1, 2, 3, 4]))?.RevokedAt);
        Assert.Equal(["t1", "t2"], (await store.ListTokensAsync()).Select(t => t.Id));
    }

    [SkippableFact]
    public async Task InsertToken_DuplicateHash_ThrowsConflict()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, tx => tx.InsertTokenAsync(new TokenRecord("t1", "a", "admin", [1, 2], s_t0, null)));
        await using var tx = await store.BeginAsync();
        await Assert.ThrowsAsync<StoreConflictException>(() => tx.InsertTokenAsync(new TokenRecord("t2", "b", "admin", [1, 2], s_t0, null)));
    }

    [SkippableFact]
    public async Task Webhooks_InsertListDelete()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertWebhookAsync(new WebhookRecord("w1", "https://siem/hook", [1, 2, 3], "[\"host.untrusted\"]", s_t0));
            await tx.InsertWebhookAsync(new WebhookRecord("w2", "https://other/hook", [4], "[]", s_t0.AddSeconds(1)));
        });
        var hooks = await store.ListWebhooksAsync();
        Assert.Equal(["w1", "w2"], hooks.Select(w => w.Id));
        Assert.Equal(("https://siem/hook", "[\"host.untrusted\"]", s_t0), (hooks[0].Url, hooks[0].EventsJson, hooks[0].CreatedAt));
        Assert.Equal([1, 2, 3], hooks[0].Secret);

        await InTransactionAsync(store, async tx =>
        {
            Assert.True(await tx.DeleteWebhookAsync("w1"));
            Assert.False(await tx.DeleteWebhookAsync("w1"));
        });
        Assert.Equal(["w2"], (await store.ListWebhooksAsync()).Select(w => w.Id));
    }

    [SkippableFact]
    public async Task Transaction_DisposedWithoutCommit_RollsBack()
    {
        var store = await OpenAsync();
        await using (var tx = await store.BeginAsync())
        {
            await tx.InsertHostAsync(Host("h"));
            await tx.InsertReportAsync(Report("r", "h", s_t0));
            await tx.UpsertPoolAsync(new PoolRecord("p", 0, "{}", s_t0));
            Assert.NotNull(await tx.GetHostAsync("h"));
        }

        Assert.Null(await store.GetHostAsync("h"));
        Assert.Null(await store.GetReportAsync("r"));
        Assert.Null(await store.GetPoolAsync("p"));

        // The store is still usable for writes afterwards (the SQLite writer lock was released).
        await InTransactionAsync(store, tx => tx.InsertHostAsync(Host("h")));
        Assert.NotNull(await store.GetHostAsync("h"));
    }

    [SkippableFact]
    public async Task Transaction_AfterConflict_DisposeRollsBackAndStoreStaysUsable()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, tx => tx.InsertHostAsync(Host("h")));
        await using (var tx = await store.BeginAsync())
        {
            await Assert.ThrowsAsync<StoreConflictException>(() => tx.InsertHostAsync(Host("h")));
        }

        await InTransactionAsync(store, tx => tx.InsertHostAsync(Host("h2")));
        Assert.Equal(2, (await store.ListHostsAsync()).Count);
    }

    [SkippableFact]
    public async Task OpenAsync_Reopen_KeepsData()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertHostAsync(Host("h"));
            await tx.AddBaselineVersionAsync(new BaselineRecord("b", 0, "pcr", "{}", "d", s_t0));
            await tx.InsertReportAsync(Report("r", "h", s_t0));
        });
        await store.DisposeAsync();

        var reopened = await OpenAsync();
        AssertHost(Host("h"), await reopened.GetHostAsync("h"));
        Assert.Equal(1, (await reopened.GetBaselineAsync("b"))?.Version);
        Assert.Equal("r", (await reopened.GetLatestReportAsync("h"))?.Id);
        await InTransactionAsync(reopened, async tx =>
            Assert.Equal(2, await tx.AddBaselineVersionAsync(new BaselineRecord("b", 0, "pcr", "{}", "d2", s_t0))));
    }

    [SkippableFact]
    public async Task OpenAsync_Twice_MigrationsAreANoOp()
    {
        var first = await OpenAsync();
        var second = await OpenAsync();
        await first.DisposeAsync();
        var third = await OpenAsync();

        await using var tx = await third.BeginAsync();
        var rows = (await tx.Connection.QueryAsync<long>(
            new CommandDefinition("SELECT version FROM schema_version ORDER BY version", transaction: tx.Transaction))).ToList();
        Assert.Equal(Migrations.All.Select(m => (long)m.Version), rows);
        Assert.Equal(Migrations.LatestVersion, rows[^1]);
        Assert.NotNull(second);
    }

    [SkippableFact]
    public async Task OpenAsync_NewerSchema_Refused()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, tx => tx.Connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (@v, 'from the future', 0)",
            new { v = Migrations.LatestVersion + 1 },
            tx.Transaction)));
        await store.DisposeAsync();

        var (database, dataDirectory) = await GetDatabaseAsync();
        var e = await Assert.ThrowsAsync<StoreException>(() => TrustStore.OpenAsync(database, dataDirectory));
        Assert.Contains("newer", e.Message, StringComparison.Ordinal);
        Output.WriteLine(e.Message);
    }

    [SkippableFact]
    public async Task ClaimHosts_TwoInstances_NeverClaimTheSameHost()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        await InTransactionAsync(a, async tx =>
        {
            for (var i = 0; i < 40; i++)
            {
                await tx.InsertHostAsync(Host("h" + i.ToString("D2", CultureInfo.InvariantCulture)));
            }

            await tx.InsertHostAsync(Host("stale", "re-enrollment-required"));
        });

        var claimed = new ConcurrentDictionary<string, string>();
        var duplicates = new ConcurrentBag<string>();
        async Task ClaimLoop(ITrustStore store, string instance)
        {
            while (true)
            {
                var names = await store.ClaimHostsAsync(instance, s_t0, TimeSpan.FromMinutes(1), 3);
                if (names.Count == 0)
                {
                    return;
                }

                foreach (var name in names)
                {
                    if (!claimed.TryAdd(name, instance))
                    {
                        duplicates.Add(name);
                    }
                }
            }
        }

        await Task.WhenAll(Task.Run(() => ClaimLoop(a, "instance-a")), Task.Run(() => ClaimLoop(b, "instance-b")));

        Assert.Empty(duplicates);
        Assert.Equal(40, claimed.Count);
        Assert.DoesNotContain("stale", claimed.Keys);
        Output.WriteLine($"instance-a claimed {claimed.Values.Count(v => v == "instance-a")}, instance-b {claimed.Values.Count(v => v == "instance-b")}");

        // Everything is leased until t0 + 1 min: nothing more to claim, for either instance.
        Assert.Empty(await a.ClaimHostsAsync("instance-a", s_t0.AddSeconds(59), TimeSpan.FromMinutes(1), 100));
        Assert.Empty(await b.ClaimHostsAsync("instance-b", s_t0.AddSeconds(59), TimeSpan.FromMinutes(1), 100));
    }

    [SkippableFact]
    public async Task ClaimHosts_ExpiredLease_IsTakenOver()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertHostAsync(Host("h1"));
            await tx.InsertHostAsync(Host("h2"));
        });

        Assert.Equal(["h1", "h2"], await store.ClaimHostsAsync("dead", s_t0, TimeSpan.FromSeconds(30), 10));
        Assert.Empty(await store.ClaimHostsAsync("alive", s_t0.AddSeconds(29), TimeSpan.FromSeconds(30), 10));
        Assert.Equal(["h1", "h2"], await store.ClaimHostsAsync("alive", s_t0.AddSeconds(30), TimeSpan.FromSeconds(30), 10));
        Assert.Empty(await store.ClaimHostsAsync("dead", s_t0.AddSeconds(31), TimeSpan.FromSeconds(30), 10));

        // The limit is honoured and the longest-expired lease goes first.
        Assert.Equal(["h1"], await store.ClaimHostsAsync("x", s_t0.AddSeconds(60), TimeSpan.FromSeconds(30), 1));
        Assert.Equal(["h2"], await store.ClaimHostsAsync("y", s_t0.AddSeconds(60), TimeSpan.FromSeconds(30), 1));
        Assert.Empty(await store.ClaimHostsAsync("z", s_t0.AddSeconds(60), TimeSpan.FromSeconds(30), 0));
    }

    [SkippableFact]
    public async Task ConcurrentWriters_EightTasks_AllSucceed()
    {
        var store = await OpenAsync();
        const int Tasks = 8;
        const int PerTask = 25;
        await InTransactionAsync(store, async tx =>
        {
            for (var t = 0; t < Tasks; t++)
            {
                await tx.InsertHostAsync(Host("host-" + t));
            }
        });
        await Task.WhenAll(Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < PerTask; i++)
            {
                await using var tx = await store.BeginAsync();
                await tx.InsertReportAsync(Report($"r-{t}-{i}", "host-" + t, s_t0.AddSeconds(i)));
                if (i % 5 == 0)
                {
                    await tx.AddNonceAsync([(byte)t, (byte)i], "host-" + t, s_t0.AddMinutes(1));
                }

                await tx.CommitAsync();
                _ = await store.GetLatestReportAsync("host-" + t);
                if (i % 5 == 0)
                {
                    Assert.True(await store.ConsumeNonceAsync([(byte)t, (byte)i], "host-" + t, s_t0));
                }
            }
        })));

        var latest = await store.GetLatestReportsAsync();
        Assert.Equal(Tasks, latest.Count);
        Assert.All(latest.Values, r => Assert.EndsWith("-" + (PerTask - 1), r.Id, StringComparison.Ordinal));
        Assert.Equal(PerTask, (await store.ListReportsAsync("host-3", 1000)).Count);
    }

    [SkippableFact]
    public async Task InsertReports_TenThousandInBatchesOf200_Measured()
    {
        var store = await OpenAsync();
        const int Total = 10_000;
        const int Batch = 200;
        await InTransactionAsync(store, async tx =>
        {
            for (var h = 0; h < 50; h++)
            {
                await tx.InsertHostAsync(Host("host-" + h));
            }
        });
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        for (var start = 0; start < Total; start += Batch)
        {
            await using var tx = await store.BeginAsync();
            for (var i = start; i < start + Batch; i++)
            {
                await tx.InsertReportAsync(Report("r" + i.ToString("D5", CultureInfo.InvariantCulture), "host-" + (i % 50), s_t0.AddSeconds(i)));
            }

            await tx.CommitAsync();
        }

        stopwatch.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        // Not a timed assertion: the machine is shared. CPU time is for the whole test process (other tests may run).
        Output.WriteLine(
            $"{ExpectedProvider}: {Total} reports in batches of {Batch}: {stopwatch.ElapsedMilliseconds} ms wall " +
            $"({Total / stopwatch.Elapsed.TotalSeconds:0} reports/s), {cpu.TotalMilliseconds:0} ms CPU of the test process");
        Assert.Equal(Total / 50, (await store.ListReportsAsync("host-7", Total)).Count);
        Assert.Equal(50, (await store.GetLatestReportsAsync()).Count);
    }

    [SkippableFact]
    public async Task WriteReports_Batch_InsertsEveryReportAndSetsClocks_LaterClockWins()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertHostAsync(Host("a"));
            await tx.InsertHostAsync(Host("b"));
        });
        var reports = Enumerable.Range(0, 300).Select(i => Report("w" + i.ToString("D3", CultureInfo.InvariantCulture), i % 2 == 0 ? "a" : "b", s_t0.AddSeconds(i))).ToList();
        await InTransactionAsync(store, tx => tx.WriteReportsAsync(reports, [("a", Enrollment("a"), [1, 1]), ("b", Enrollment("b"), [2, 2]), ("a", Enrollment("a"), [3, 3]), ("nobody", Enrollment("nobody"), [4])]));

        Assert.Equal(150, (await store.ListReportsAsync("a", 1000)).Count);
        Assert.Equal(reports[299], (await store.GetLatestReportsAsync())["b"]);
        Assert.Equal(reports[17], await store.GetReportAsync("w017"));
        Assert.Equal([3, 3], (await store.GetHostAsync("a"))!.LastClockInfo);
        Assert.Equal([2, 2], (await store.GetHostAsync("b"))!.LastClockInfo);
    }

    [SkippableFact]
    public async Task WriteReports_ClockOfAnEndedEnrollment_NotWrittenOntoTheHostsNewEnrollment()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx => await tx.InsertHostAsync(Host("a") with { EnrollmentId = "new", LastClockInfo = [5] }));

        // An attestation of the earlier enrollment (another TPM, perhaps) finished after the name was enrolled again.
        await InTransactionAsync(store, tx => tx.WriteReportsAsync([Report("late", "a", s_t0) with { Enrollment = "earlier" }], [("a", "earlier", [9, 9])]));
        Assert.Equal([5], (await store.GetHostAsync("a"))!.LastClockInfo);
        Assert.Equal("earlier", (await store.GetReportAsync("late"))?.Enrollment);

        // In one batch with the current enrollment's clock, whichever comes last: only the current one is written.
        await InTransactionAsync(store, tx => tx.WriteReportsAsync([], [("a", "new", [6]), ("a", "earlier", [9, 9])]));
        Assert.Equal([6], (await store.GetHostAsync("a"))!.LastClockInfo);
    }

    [SkippableFact]
    public async Task WriteReports_DuplicateId_ConflictAndNothingOfTheBatchStored()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx => await tx.InsertHostAsync(Host("a")));
        await InTransactionAsync(store, tx => tx.WriteReportsAsync([Report("d1", "a", s_t0)], []));

        await using (var tx = await store.BeginAsync())
        {
            await Assert.ThrowsAsync<StoreConflictException>(() => tx.WriteReportsAsync([Report("d2", "a", s_t0), Report("d1", "a", s_t0)], [("a", Enrollment("a"), [7])]));
        }

        Assert.Null(await store.GetReportAsync("d2"));
        Assert.Null((await store.GetHostAsync("a"))!.LastClockInfo);
    }

    [SkippableFact]
    public async Task WriteReports_TenThousandInBatchesOf256_Measured()
    {
        var store = await OpenAsync();
        const int Total = 10_000;
        const int Batch = 256;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        for (var start = 0; start < Total; start += Batch)
        {
            var batch = Enumerable.Range(start, Math.Min(Batch, Total - start))
                .Select(i => Report("b" + i.ToString("D5", CultureInfo.InvariantCulture), "host-" + (i % 50), s_t0.AddSeconds(i))).ToList();
            await InTransactionAsync(store, tx => tx.WriteReportsAsync(batch, [.. batch.Select(r => (r.Host, r.Enrollment, new byte[17]))]));
        }

        stopwatch.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Output.WriteLine(
            $"{ExpectedProvider}: {Total} reports + clock updates in batches of {Batch} (WriteReportsAsync): {stopwatch.ElapsedMilliseconds} ms wall " +
            $"({Total / stopwatch.Elapsed.TotalSeconds:0} reports/s), {cpu.TotalMilliseconds:0} ms CPU of the test process");
        Assert.Equal(Total / 50, (await store.ListReportsAsync("host-7", Total)).Count);
    }

    [SkippableFact]
    public async Task Hosts_SameEkKeyOrAkKeyUnderTwoNames_UniqueViolationIsConflict()
    {
        // Issue 13: one TPM is one host, in the schema too (the enrollment check alone would lose a race).
        var store = await OpenAsync();
        await InTransactionAsync(store, tx => tx.InsertHostAsync(Host("a") with { EkKey = [9, 9], AkKey = [8, 8] }));
        await using (var tx = await store.BeginAsync())
        {
            await Assert.ThrowsAsync<StoreConflictException>(() => tx.InsertHostAsync(Host("b") with { EkKey = [9, 9], AkKey = [7, 7] }));
        }

        await using (var tx = await store.BeginAsync())
        {
            await Assert.ThrowsAsync<StoreConflictException>(() => tx.InsertHostAsync(Host("c") with { EkKey = [6, 6], AkKey = [8, 8] }));
        }

        await InTransactionAsync(store, async tx =>
        {
            // Hosts without keys (the migration's duplicates) do not collide with each other.
            await tx.InsertHostAsync(Host("d"));
            await tx.InsertHostAsync(Host("e"));
            await tx.InsertHostAsync(Host("f") with { EkKey = [5, 5], AkKey = [4, 4] });
        });
        await using (var tx = await store.BeginAsync())
        {
            await Assert.ThrowsAsync<StoreConflictException>(() => tx.UpdateHostAsync(Host("f") with { EkKey = [9, 9], AkKey = [4, 4] }));
        }

        Assert.Equal("a", (await store.FindHostByKeysAsync([9, 9], null))?.Name);
        Assert.Equal("a", (await store.FindHostByKeysAsync(null, [8, 8], "f"))?.Name);
        Assert.Null(await store.FindHostByKeysAsync([9, 9], [8, 8], "a"));
        Assert.Null(await store.FindHostByKeysAsync(null, null));
        Assert.Equal("a", (await store.FindHostByTlsFingerprintAsync("sha256:a"))?.Name);
        Assert.Null(await store.FindHostByTlsFingerprintAsync("sha256:a", "a"));
        AssertHost(Host("a") with { EkKey = [9, 9], AkKey = [8, 8] }, await store.GetHostAsync("a"));
    }

    [SkippableFact]
    public async Task Reports_OfAnEarlierEnrollment_AreHistoryNotLatest()
    {
        var store = await OpenAsync();
        await InTransactionAsync(store, async tx =>
        {
            await tx.InsertHostAsync(Host("h"));
            await tx.InsertReportAsync(Report("old", "h", s_t0.AddMinutes(1)) with { Enrollment = "earlier" });
            await tx.InsertReportAsync(Report("none", "h", s_t0.AddMinutes(2)) with { Enrollment = null });
            await tx.InsertReportAsync(Report("cur", "h", s_t0));
        });
        Assert.Equal("cur", (await store.GetLatestReportAsync("h"))?.Id);
        Assert.Equal("cur", (await store.GetLatestReportsAsync())["h"].Id);
        Assert.Equal(["none", "old", "cur"], (await store.ListReportsAsync("h", 10)).Select(r => r.Id));
        Assert.Equal("earlier", (await store.GetReportAsync("old"))?.Enrollment);

        // Re-enrolled: nothing is current until the new enrollment has a report.
        await InTransactionAsync(store, tx => tx.UpdateHostAsync(Host("h") with { EnrollmentId = "new" }));
        Assert.Null(await store.GetLatestReportAsync("h"));
        Assert.Empty(await store.GetLatestReportsAsync());
        await InTransactionAsync(store, tx => tx.WriteReportsAsync([Report("next", "h", s_t0) with { Enrollment = "new" }], []));
        Assert.Equal("next", (await store.GetLatestReportAsync("h"))?.Id);
    }

    [SkippableFact]
    public async Task Migration5_HostsSharingATpm_EarliestKeepsIt_OldReportsNotCurrent()
    {
        var (database, dataDirectory) = await GetDatabaseAsync();
        using var tpm = TrustPool.Tpm.Software.SoftwareTpm.CreateInMemory();
        using var other = TrustPool.Tpm.Software.SoftwareTpm.CreateInMemory();
        var ek = tpm.CreateEk(TrustPool.Tpm.Client.TpmKeyAlgorithm.Rsa2048).Public;
        var otherEk = other.CreateEk(TrustPool.Tpm.Client.TpmKeyAlgorithm.Rsa2048).Public;

        // A schema-4 database as a release before issue 13 left it: two names on one TPM, a trusted report.
        await using (var raw = database.StartsWith("sqlite:", StringComparison.Ordinal)
            ? SqlTrustStore.ForSqlite(Path.Combine(dataDirectory, database["sqlite:".Length..]))
            : SqlTrustStore.ForPostgres(database["postgres:".Length..]))
        {
            if (!raw.IsPostgres)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dataDirectory, database["sqlite:".Length..]))!);
            }

            await using var connection = await raw.OpenConnectionAsync(default);
            Assert.Equal(4, await Migrations.ApplyAsync(connection, raw.Provider, 0, default, upTo: 4));
            foreach (var (name, at, pub, akName) in new[] { ("second", 2, ek, new byte[] { 0, 11, 2 }), ("first", 1, ek, new byte[] { 0, 11, 1 }), ("alone", 3, otherEk, new byte[] { 0, 11, 3 }) })
            {
                await connection.ExecuteAsync(
                    """
                    INSERT INTO hosts (name, agent_url, tls_fingerprint, ek_public, ak_public, ak_name, ek_trust, state, tags, enrolled_at, ima_offset, lease_until)
                    VALUES (@name, 'https://x', 'f', @ek, @ak, @ak, 'ca', 'enrolled', '{}', @at, 0, 0)
                    """,
                    new { name, ek = pub.ToTpm2b(), ak = akName, at = (long)at });
            }

            await connection.ExecuteAsync(
                "INSERT INTO reports (id, host, trust, verified_at, valid_from, valid_to, jws, payload) VALUES ('r', 'first', 'trusted', 1, 1, @to, 'j', '{}')",
                new { to = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds() });
        }

        var store = await OpenAsync();
        var first = await store.GetHostAsync("first");
        var second = await store.GetHostAsync("second");
        var alone = await store.GetHostAsync("alone");
        Assert.Equal("enrolled", first!.State);
        Assert.Equal(HostKeys.EkKey(ek), first.EkKey);
        Assert.Equal(first.AkName, first.AkKey);
        Assert.Equal("re-enrollment-required", second!.State);
        Assert.Null(second.EkKey);
        Assert.Null(second.AkKey);
        Assert.Equal("enrolled", alone!.State);
        Assert.Equal(HostKeys.EkKey(otherEk), alone.EkKey);
        Assert.All(new[] { first, second, alone }, h => Assert.False(string.IsNullOrEmpty(h.EnrollmentId)));
        Assert.Equal(3, new[] { first, second, alone }.Select(h => h.EnrollmentId).Distinct().Count());

        // The report from before the migration is history: the host is unknown until its next attestation.
        Assert.NotNull(await store.GetReportAsync("r"));
        Assert.Null(await store.GetLatestReportAsync("first"));
        Assert.Equal("first", (await store.FindHostByKeysAsync(HostKeys.EkKey(ek), null, "second"))?.Name);
    }
}
