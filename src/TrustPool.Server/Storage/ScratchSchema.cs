using Npgsql;

namespace TrustPool.Server.Storage;

/// <summary>
/// Throw-away PostgreSQL schemas for measurement runs (<c>trustpool bench attest --database postgres:…</c>): a fresh
/// schema per run, so a benchmark never reads or writes a real service's tables, and dropped afterwards. The SQL
/// stays here in Storage; callers only see connection strings.
/// </summary>
public static class ScratchSchema
{
    /// <summary>Creates <c>PREFIX + 12 hex digits</c> and returns <paramref name="connection"/> with its search path set to it.</summary>
    public static async Task<string> CreateAsync(string connection, string prefix, CancellationToken ct = default)
    {
        CheckPrefix(prefix);
        var schema = prefix + Guid.NewGuid().ToString("N")[..12];
        await using (var c = new NpgsqlConnection(connection))
        {
            await c.OpenAsync(ct);
            // The name is ours (prefix checked above, hex digits): no user text in the identifier.
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", c);
            await command.ExecuteNonQueryAsync(ct);
        }

        return new NpgsqlConnectionStringBuilder(connection) { SearchPath = schema }.ConnectionString;
    }

    /// <summary>
    /// Drops the schema <see cref="CreateAsync"/> made (the search path of <paramref name="connection"/>), only when its
    /// name starts with <paramref name="prefix"/>: never anybody else's schema.
    /// </summary>
    public static async Task DropAsync(string connection, string prefix, CancellationToken ct = default)
    {
        CheckPrefix(prefix);
        var builder = new NpgsqlConnectionStringBuilder(connection);
        var schema = builder.SearchPath;
        builder.SearchPath = null;
        if (schema is null || !schema.StartsWith(prefix, StringComparison.Ordinal) || !schema.All(IsIdentifierChar))
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(builder.ConnectionString);
        await c.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", c);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static bool IsIdentifierChar(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_';

    private static void CheckPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (!char.IsAsciiLetterLower(prefix[0]) || !prefix.All(IsIdentifierChar))
        {
            throw new ArgumentException("the schema prefix must be lower-case letters, digits and '_', starting with a letter", nameof(prefix));
        }
    }
}
