using Npgsql;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// A fresh schema in the PostgreSQL that scripts/test.sh starts (<c>TRUSTPOOL_TEST_POSTGRES</c>), so every test
/// sees an empty database; skipped (failed under TRUSTPOOL_REQUIRE_INTEGRATION=1) without one.
/// </summary>
public static class PostgresSchema
{
    public const string EnvironmentVariable = "TRUSTPOOL_TEST_POSTGRES";

    public static async Task<string> CreateAsync()
    {
        var baseConnection = Environment.GetEnvironmentVariable(EnvironmentVariable);
        Integration.SkipOrFailUnless(!string.IsNullOrEmpty(baseConnection), $"{EnvironmentVariable} is not set (scripts/test.sh starts PostgreSQL and sets it)");
        var schema = "tp_e2e_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(baseConnection))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(baseConnection) { SearchPath = schema }.ConnectionString;
    }

    public static async Task DropAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var schema = builder.SearchPath;
        builder.SearchPath = null;
        if (schema is null || !schema.StartsWith("tp_e2e_", StringComparison.Ordinal))
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }
}
