using Dapper;
using Npgsql;
using TrustPool.Server.Storage;
using TrustPool.Testing;
using Xunit.Abstractions;

namespace TrustPool.Server.Tests.Storage;

/// <summary>
/// The store on PostgreSQL (TRUSTPOOL_TEST_POSTGRES, set by scripts/test.sh), in a schema of its own per test
/// that is dropped afterwards.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PostgresTrustStoreTests : TrustStoreTests
{
    private const string EnvironmentVariable = "TRUSTPOOL_TEST_POSTGRES";
    private string? _baseConnectionString;
    private string? _schema;
    private string? _connectionString;

    public PostgresTrustStoreTests(ITestOutputHelper output)
        : base(output)
    {
    }

    protected override string ExpectedProvider => TrustStore.PostgresProvider;

    protected override async Task<(string Database, string DataDirectory)> GetDatabaseAsync()
    {
        if (_connectionString is null)
        {
            _baseConnectionString = Environment.GetEnvironmentVariable(EnvironmentVariable);
            Integration.SkipOrFailUnless(
                !string.IsNullOrEmpty(_baseConnectionString),
                $"{EnvironmentVariable} is not set (scripts/test.sh starts PostgreSQL and sets it)");

            // Generated, never user input: identifiers cannot be bound as parameters.
            var schema = "tp_test_" + Guid.NewGuid().ToString("N");
            await using (var connection = new NpgsqlConnection(_baseConnectionString))
            {
                await connection.OpenAsync();
                await connection.ExecuteAsync($"CREATE SCHEMA {schema}");
            }

            _schema = schema;
            _connectionString = new NpgsqlConnectionStringBuilder(_baseConnectionString) { SearchPath = schema }.ToString();
        }

        return ("postgres:" + _connectionString, "/nonexistent-data-dir");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_schema is not null)
        {
            await using var connection = new NpgsqlConnection(_baseConnectionString);
            await connection.OpenAsync();
            await connection.ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        }
    }

    [SkippableFact]
    public async Task OpenAsync_Unreachable_ThrowsStoreException()
    {
        Integration.SkipOrFailUnless(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(EnvironmentVariable)), $"{EnvironmentVariable} is not set");
        await Assert.ThrowsAsync<StoreException>(() =>
            TrustStore.OpenAsync("postgres:Host=127.0.0.1;Port=1;Username=x;Password=x;Database=x;Timeout=2", "/tmp"));
    }
}
