using TrustPool.Server.Storage;
using TrustPool.Testing;
using Xunit.Abstractions;

namespace TrustPool.Server.Tests.Storage;

/// <summary>The store on a SQLite file in a fresh temp directory per test.</summary>
public sealed class SqliteTrustStoreTests : TrustStoreTests
{
    private readonly DirectoryInfo _directory = TestTemp.CreateDirectory("store-sqlite-");

    public SqliteTrustStoreTests(ITestOutputHelper output)
        : base(output)
    {
    }

    protected override string ExpectedProvider => TrustStore.SqliteProvider;

    protected override Task<(string Database, string DataDirectory)> GetDatabaseAsync() =>
        Task.FromResult(("sqlite:db/trust.db", _directory.FullName));

    [SkippableFact]
    public async Task OpenAsync_RelativePath_ResolvesAgainstDataDirectory()
    {
        await OpenAsync();
        Assert.True(File.Exists(Path.Combine(_directory.FullName, "db", "trust.db")));
    }

    [SkippableFact]
    public async Task OpenAsync_AbsolutePathAndDefaultName()
    {
        var absolute = Path.Combine(_directory.FullName, "abs.db");
        await using (await TrustStore.OpenAsync("sqlite:" + absolute, "/nonexistent-data-dir"))
        {
        }

        await using (await TrustStore.OpenAsync("sqlite:", _directory.FullName))
        {
        }

        Assert.True(File.Exists(absolute));
        Assert.True(File.Exists(Path.Combine(_directory.FullName, TrustStore.DefaultSqliteFile)));
    }

    [SkippableFact]
    public async Task OpenAsync_UnknownProvider_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => TrustStore.OpenAsync("mysql:server=x", _directory.FullName));
    }

    [SkippableFact]
    public async Task OpenAsync_UsesWriteAheadLog()
    {
        var store = await OpenAsync();
        await using var tx = await store.BeginAsync();
        using var command = tx.Connection.CreateCommand();
        command.Transaction = tx.Transaction;
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }
}
