using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace TrustPool.Server.Storage;

/// <summary>
/// <see cref="ITrustStore"/> over SQLite or PostgreSQL: one SQL text for both except the claim query.
/// Every operation takes its own connection from the provider's pool.
/// </summary>
internal sealed class SqlTrustStore : ITrustStore
{
    // A writer that waits this long for the SQLite writer lock is almost certainly waiting for itself
    // (a store write inside an open transaction of the same flow): fail instead of hanging.
    private static readonly TimeSpan s_writerLockTimeout = TimeSpan.FromSeconds(30);

    // SQLite handles (kept open by the connection pool) whose per-connection PRAGMAs are set.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> s_configuredHandles = new();
    private static readonly object s_configured = new();

    private readonly string? _sqliteConnectionString;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly SemaphoreSlim? _writerLock;
    private int _disposed;

    private SqlTrustStore(string provider, string? sqliteConnectionString, NpgsqlDataSource? dataSource)
    {
        Provider = provider;
        _sqliteConnectionString = sqliteConnectionString;
        _dataSource = dataSource;
        _writerLock = sqliteConnectionString is null ? null : new SemaphoreSlim(1, 1);
    }

    public string Provider { get; }

    public event Action<IReadOnlyList<Audit.AuditEntry>>? AuditCommitted;

    /// <summary>The clock audit leaves are stamped with (the service's).</summary>
    internal TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Appends each committing transaction's audit records (one per store: it caches the committed right edge).</summary>
    internal AuditAppender Appender { get; } = new();

    internal bool IsPostgres => _dataSource is not null;

    internal void OnAuditCommitted(IReadOnlyList<Audit.AuditEntry> entries) => AuditCommitted?.Invoke(entries);

    internal static SqlTrustStore ForSqlite(string path)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        };
        return new SqlTrustStore(TrustStore.SqliteProvider, builder.ToString(), null);
    }

    internal static SqlTrustStore ForPostgres(string connectionString) =>
        new(TrustStore.PostgresProvider, null, NpgsqlDataSource.Create(connectionString));

    internal async Task InitializeAsync(CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct);
        if (!IsPostgres)
        {
            // Persistent in the file: set once. Readers then never block the writer and vice versa.
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode=WAL", cancellationToken: ct));
        }

        await Migrations.ApplyAsync(connection, Provider, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ct);
    }

    internal async Task<DbConnection> OpenConnectionAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_dataSource is not null)
        {
            return await _dataSource.OpenConnectionAsync(ct);
        }

        var connection = new SqliteConnection(_sqliteConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            // Per-connection settings (foreign_keys comes from the connection string). They stay with the SQLite
            // handle, which the pool keeps open across Open/Close: set them once per handle.
            if (connection.Handle is { } handle && !s_configuredHandles.TryGetValue(handle, out _))
            {
                await connection.ExecuteAsync(new CommandDefinition("PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000", cancellationToken: ct));
                s_configuredHandles.AddOrUpdate(handle, s_configured);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>SQLite: waits for the in-process writer lock (returns true when taken). PostgreSQL: no-op.</summary>
    internal async Task<bool> EnterWriterAsync(CancellationToken ct)
    {
        if (_writerLock is null)
        {
            return false;
        }

        if (!await _writerLock.WaitAsync(s_writerLockTimeout, ct))
        {
            throw new StoreException(
                $"Timed out after {s_writerLockTimeout.TotalSeconds:0} s waiting for the SQLite writer lock " +
                "(is a store write running inside an open transaction of the same flow?).");
        }

        return true;
    }

    internal void ExitWriter(bool taken)
    {
        if (taken)
        {
            _writerLock!.Release();
        }
    }

    public async Task<IStoreTransaction> BeginAsync(CancellationToken ct = default)
    {
        var taken = await EnterWriterAsync(ct);
        DbConnection? connection = null;
        try
        {
            connection = await OpenConnectionAsync(ct);
            // SQLite: BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default), so the write lock is taken up front.
            var transaction = await connection.BeginTransactionAsync(ct);
            return new StoreTransaction(this, connection, transaction, taken);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            ExitWriter(taken);
            throw;
        }
    }

    public Task<HostRecord?> GetHostAsync(string name, CancellationToken ct = default) =>
        ReadSingleAsync($"SELECT {Sql.HostColumns} FROM hosts WHERE name = @name", new { name }, Sql.ReadHost, ct);

    public Task<IReadOnlyList<HostRecord>> ListHostsAsync(CancellationToken ct = default) =>
        ReadListAsync($"SELECT {Sql.HostColumns} FROM hosts ORDER BY name", null, Sql.ReadHost, ct);

    public Task<BaselineRecord?> GetBaselineAsync(string name, int? version = null, CancellationToken ct = default) =>
        version is { } v
            ? ReadSingleAsync($"SELECT {Sql.BaselineColumns} FROM baselines WHERE name = @name AND version = @v", new { name, v }, Sql.ReadBaseline, ct)
            : ReadSingleAsync($"SELECT {Sql.BaselineColumns} FROM baselines WHERE name = @name ORDER BY version DESC LIMIT 1", new { name }, Sql.ReadBaseline, ct);

    public Task<IReadOnlyList<BaselineRecord>> ListBaselinesAsync(CancellationToken ct = default) =>
        ReadListAsync(
            $"SELECT {Sql.BaselineColumns} FROM baselines b WHERE version = (SELECT MAX(version) FROM baselines m WHERE m.name = b.name) ORDER BY name",
            null,
            Sql.ReadBaseline,
            ct);

    public Task<IReadOnlyList<BaselineRecord>> ListBaselineVersionsAsync(string name, CancellationToken ct = default) =>
        ReadListAsync($"SELECT {Sql.BaselineColumns} FROM baselines WHERE name = @name ORDER BY version", new { name }, Sql.ReadBaseline, ct);

    public Task<PoolRecord?> GetPoolAsync(string name, CancellationToken ct = default) =>
        ReadSingleAsync($"SELECT {Sql.PoolColumns} FROM pools WHERE name = @name", new { name }, Sql.ReadPool, ct);

    public Task<IReadOnlyList<PoolRecord>> ListPoolsAsync(CancellationToken ct = default) =>
        ReadListAsync($"SELECT {Sql.PoolColumns} FROM pools ORDER BY name", null, Sql.ReadPool, ct);

    public Task<ReportRecord?> GetReportAsync(string id, CancellationToken ct = default) =>
        ReadSingleAsync($"SELECT {Sql.ReportColumns} FROM reports WHERE id = @id", new { id }, Sql.ReadReport, ct);

    public async Task<int> CountTrustedHostsSinceAsync(DateTimeOffset since, CancellationToken ct = default)
    {
        await using var connection = await OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(DISTINCT host) FROM reports WHERE trust = 'trusted' AND verified_at >= @since", new { since = Sql.Ms(since) }, cancellationToken: ct));
    }

    public Task<ReportRecord?> FindNotTrustedReportSinceAsync(DateTimeOffset since, CancellationToken ct = default) =>
        ReadSingleAsync($"SELECT {Sql.ReportColumns} FROM reports WHERE trust <> 'trusted' AND verified_at >= @since LIMIT 1", new { since = Sql.Ms(since) }, Sql.ReadReport, ct);

    public Task<HostRecord?> FindHostByKeysAsync(byte[]? ekKey, byte[]? akKey, string? except = null, CancellationToken ct = default) =>
        ReadSingleAsync(
            $"SELECT {Sql.HostColumns} FROM hosts WHERE (ek_key = @ekKey OR ak_key = @akKey) AND name <> @except ORDER BY enrolled_at, name LIMIT 1",
            new { ekKey = ekKey ?? [], akKey = akKey ?? [], except = except ?? "" },
            Sql.ReadHost,
            ct);

    public Task<HostRecord?> FindHostByTlsFingerprintAsync(string fingerprint, string? except = null, CancellationToken ct = default) =>
        ReadSingleAsync(
            $"SELECT {Sql.HostColumns} FROM hosts WHERE tls_fingerprint = @fingerprint AND name <> @except ORDER BY enrolled_at, name LIMIT 1",
            new { fingerprint, except = except ?? "" },
            Sql.ReadHost,
            ct);

    public Task<ReportRecord?> GetLatestReportAsync(string host, CancellationToken ct = default) =>
        ReadSingleAsync(
            $"SELECT {Sql.ReportColumnsR} FROM reports r {Sql.CurrentEnrollmentJoin} WHERE r.host = @host ORDER BY r.verified_at DESC, r.id DESC LIMIT 1",
            new { host },
            Sql.ReadReport,
            ct);

    public async Task<IReadOnlyDictionary<string, ReportRecord>> GetLatestReportsAsync(CancellationToken ct = default)
    {
        var reports = await ReadListAsync(
            $"""
            SELECT {Sql.ReportColumns} FROM (
                SELECT {Sql.ReportColumnsR}, ROW_NUMBER() OVER (PARTITION BY r.host ORDER BY r.verified_at DESC, r.id DESC) AS rn
                FROM reports r {Sql.CurrentEnrollmentJoin}
            ) latest WHERE rn = 1
            """,
            null,
            Sql.ReadReport,
            ct);
        var byHost = new Dictionary<string, ReportRecord>(reports.Count, StringComparer.Ordinal);
        foreach (var report in reports)
        {
            byHost[report.Host] = report;
        }

        return byHost;
    }

    public Task<IReadOnlyList<ReportRecord>> ListReportsAsync(string host, int limit, DateTimeOffset? before = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return before is { } b
            ? ReadListAsync(
                $"SELECT {Sql.ReportColumns} FROM reports WHERE host = @host AND verified_at < @before ORDER BY verified_at DESC, id DESC LIMIT @limit",
                new { host, before = Sql.Ms(b), limit },
                Sql.ReadReport,
                ct)
            : ReadListAsync(
                $"SELECT {Sql.ReportColumns} FROM reports WHERE host = @host ORDER BY verified_at DESC, id DESC LIMIT @limit",
                new { host, limit },
                Sql.ReadReport,
                ct);
    }

    public Task<TokenRecord?> FindTokenByHashAsync(byte[] hash, CancellationToken ct = default) =>
        ReadSingleAsync($"SELECT {Sql.TokenColumns} FROM tokens WHERE hash = @hash", new { hash }, Sql.ReadToken, ct);

    public Task<IReadOnlyList<TokenRecord>> ListTokensAsync(CancellationToken ct = default) =>
        ReadListAsync($"SELECT {Sql.TokenColumns} FROM tokens ORDER BY created, id", null, Sql.ReadToken, ct);

    public Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(CancellationToken ct = default) =>
        ReadListAsync($"SELECT {Sql.WebhookColumns} FROM webhooks ORDER BY created, id", null, Sql.ReadWebhook, ct);

    public async Task<bool> ConsumeNonceAsync(byte[] nonce, string host, DateTimeOffset now, CancellationToken ct = default)
    {
        // One DELETE ... RETURNING: of two concurrent consumers exactly one gets the row.
        var expiresAt = await WriteAsync(
            (c, tx) => c.ExecuteScalarAsync<long?>(new CommandDefinition(
                "DELETE FROM nonces WHERE nonce = @nonce AND host = @host RETURNING expires_at",
                new { nonce, host },
                tx,
                cancellationToken: ct)),
            ct);
        return expiresAt is { } e && e > Sql.Ms(now);
    }

    public Task<int> PurgeExpiredNoncesAsync(DateTimeOffset now, CancellationToken ct = default) =>
        WriteAsync(
            (c, tx) => c.ExecuteAsync(new CommandDefinition("DELETE FROM nonces WHERE expires_at <= @now", new { now = Sql.Ms(now) }, tx, cancellationToken: ct)),
            ct);

    public async Task<IReadOnlyList<string>> ClaimHostsAsync(string instanceId, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0)
        {
            return [];
        }

        // PostgreSQL: rows another instance is claiming right now are skipped, not waited for; a row it has
        // just claimed is re-checked against the new lease_until after the lock and so drops out.
        var sql = IsPostgres
            ? """
              UPDATE hosts SET lease_owner = @owner, lease_until = @until WHERE name IN (
                  SELECT name FROM hosts
                  WHERE state = 'enrolled' AND (lease_owner IS NULL OR lease_until <= @now)
                  ORDER BY lease_until, name LIMIT @limit FOR UPDATE SKIP LOCKED)
              RETURNING name
              """
            : """
              UPDATE hosts SET lease_owner = @owner, lease_until = @until WHERE name IN (
                  SELECT name FROM hosts
                  WHERE state = 'enrolled' AND (lease_owner IS NULL OR lease_until <= @now)
                  ORDER BY lease_until, name LIMIT @limit)
              RETURNING name
              """;
        var args = new { owner = instanceId, now = Sql.Ms(now), until = Sql.Ms(now + lease), limit };
        var names = await WriteAsync(
            async (c, tx) => (await c.QueryAsync<string>(new CommandDefinition(sql, args, tx, cancellationToken: ct))).ToList(),
            ct);
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
        else
        {
            // Close the pooled connections so the file (and its -wal/-shm) is released now.
            using var connection = new SqliteConnection(_sqliteConnectionString);
            SqliteConnection.ClearPool(connection);
        }

        _writerLock?.Dispose();
    }

    /// <summary>A single-statement write in its own transaction, under the SQLite writer lock.</summary>
    private async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write, CancellationToken ct)
    {
        var taken = await EnterWriterAsync(ct);
        try
        {
            await using var connection = await OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var result = await write(connection, tx);
            await tx.CommitAsync(ct);
            return result;
        }
        finally
        {
            ExitWriter(taken);
        }
    }

    private async Task<T?> ReadSingleAsync<T>(string sql, object? args, Func<DbDataReader, T> map, CancellationToken ct)
        where T : class
    {
        await using var connection = await OpenConnectionAsync(ct);
        return await Sql.ReadSingleAsync(connection, null, sql, args, map, ct);
    }

    private async Task<IReadOnlyList<T>> ReadListAsync<T>(string sql, object? args, Func<DbDataReader, T> map, CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct);
        return await Sql.ReadListAsync(connection, null, sql, args, map, ct);
    }
}
