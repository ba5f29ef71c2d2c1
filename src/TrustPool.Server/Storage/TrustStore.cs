using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace TrustPool.Server.Storage;

/// <summary>Opens the configured store.</summary>
public static class TrustStore
{
    /// <summary>The value of <see cref="ITrustStore.Provider"/> for SQLite.</summary>
    public const string SqliteProvider = "sqlite";

    /// <summary>The value of <see cref="ITrustStore.Provider"/> for PostgreSQL.</summary>
    public const string PostgresProvider = "postgres";

    /// <summary>The SQLite file used by "sqlite:" with an empty path.</summary>
    public const string DefaultSqliteFile = "trustpool.db";

    /// <summary>
    /// "sqlite:PATH" (relative paths resolve against <paramref name="dataDirectory"/>) or "postgres:CONNSTR".
    /// Opens, applies pending migrations, returns the store. <paramref name="time"/> stamps audit leaves (default: the system clock).
    /// </summary>
    /// <exception cref="ArgumentException">The database string names no known provider.</exception>
    /// <exception cref="StoreException">The database cannot be opened or its schema is newer than this build.</exception>
    public static async Task<ITrustStore> OpenAsync(string database, string dataDirectory, TimeProvider? time = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(dataDirectory);

        SqlTrustStore store;
        if (database.StartsWith(SqliteProvider + ":", StringComparison.Ordinal))
        {
            var path = database[(SqliteProvider.Length + 1)..];
            if (path.Length == 0)
            {
                path = DefaultSqliteFile;
            }

            path = Path.GetFullPath(Path.Combine(dataDirectory, path));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            store = SqlTrustStore.ForSqlite(path);
        }
        else if (database.StartsWith(PostgresProvider + ":", StringComparison.Ordinal))
        {
            var connectionString = database[(PostgresProvider.Length + 1)..];
            try
            {
                store = SqlTrustStore.ForPostgres(connectionString);
            }
            catch (ArgumentException e)
            {
                throw new StoreException($"Invalid PostgreSQL connection string: {e.Message}", e);
            }
        }
        else
        {
            throw new ArgumentException("The database must be \"sqlite:PATH\" or \"postgres:CONNECTION-STRING\".", nameof(database));
        }

        store.Time = time ?? TimeProvider.System;
        try
        {
            await store.InitializeAsync(ct);
            return store;
        }
        catch (DbException e)
        {
            await store.DisposeAsync();
            throw new StoreException($"Cannot open the {store.Provider} database: {e.Message}", e);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    internal static bool IsUniqueViolation(Exception e) => e switch
    {
        // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
        SqliteException s => s.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
