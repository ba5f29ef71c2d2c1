using System.Data;
using System.Data.Common;
using Dapper;
using TrustPool.Audit.Records;
using TrustPool.Server.Audit;

namespace TrustPool.Server.Storage;

/// <summary>One write transaction on its own connection; holds the SQLite writer lock until disposed.</summary>
internal sealed class StoreTransaction : IStoreTransaction
{
    private readonly SqlTrustStore _store;
    private int _holdsWriterLock;
    private DbCommand? _insertReport;
    private List<Action>? _onCommitted;
    private List<AuditRecord>? _audit;
    private bool _disposed;
    private bool _committed;

    public StoreTransaction(SqlTrustStore store, DbConnection connection, DbTransaction transaction, bool holdsWriterLock)
    {
        _store = store;
        Connection = connection;
        Transaction = transaction;
        _holdsWriterLock = holdsWriterLock ? 1 : 0;
    }

    public DbConnection Connection { get; }

    public DbTransaction Transaction { get; }

    public string Provider => _store.Provider;

    public Task<HostRecord?> GetHostAsync(string name) =>
        Sql.ReadSingleAsync(
            Connection,
            Transaction,
            _store.IsPostgres
                ? $"SELECT {Sql.HostColumns} FROM hosts WHERE name = @name FOR UPDATE"
                : $"SELECT {Sql.HostColumns} FROM hosts WHERE name = @name",
            new { name },
            Sql.ReadHost,
            CancellationToken.None);

    public Task InsertHostAsync(HostRecord host) =>
        ExecuteAsync(
            $"""
            INSERT INTO hosts ({Sql.HostColumns}, lease_owner, lease_until) VALUES (
                @Name, @AgentUrl, @TlsFingerprint, @EkPublic, @EkCertificate, @AkPublic, @AkName, @EkTrust, @State, @TagsJson,
                @EnrolledAt, @LastClockInfo, @ImaOffset, @ImaStateJson, @InventoryJson, @EnrollmentId, @EkKey, @AkKey, NULL, 0)
            """,
            Sql.HostArgs(host),
            $"host '{host.Name}' (or its EK or AK under another name)");

    public async Task UpdateHostAsync(HostRecord host)
    {
        var rows = await ExecuteAsync(
            """
            UPDATE hosts SET agent_url = @AgentUrl, tls_fingerprint = @TlsFingerprint, ek_public = @EkPublic,
                ek_certificate = @EkCertificate, ak_public = @AkPublic, ak_name = @AkName, ek_trust = @EkTrust, state = @State,
                tags = @TagsJson, enrolled_at = @EnrolledAt, last_clock_info = @LastClockInfo, ima_offset = @ImaOffset,
                ima_state = @ImaStateJson, inventory = @InventoryJson, enrollment_id = @EnrollmentId, ek_key = @EkKey, ak_key = @AkKey
            WHERE name = @Name
            """,
            Sql.HostArgs(host),
            $"EK or AK of host '{host.Name}' under another name");
        if (rows == 0)
        {
            throw new StoreNotFoundException($"No host named '{host.Name}'.");
        }
    }

    public async Task<bool> DeleteHostAsync(string name)
    {
        await ExecuteAsync("DELETE FROM nonces WHERE host = @name", new { name }, "nonces");
        return await ExecuteAsync("DELETE FROM hosts WHERE name = @name", new { name }, "host") > 0;
    }

    public Task<int> AddBaselineVersionAsync(BaselineRecord baseline) =>
        // Two PostgreSQL transactions adding a version of one name at once: the second violates the primary
        // key and gets a StoreConflictException (retry it).
        ScalarIntAsync(
            """
            INSERT INTO baselines (name, version, kind, document, digest, created)
            SELECT @Name, COALESCE(MAX(version), 0) + 1, @Kind, @DocumentJson, @Digest, @CreatedAt FROM baselines WHERE name = @Name
            RETURNING version
            """,
            new { baseline.Name, baseline.Kind, baseline.DocumentJson, baseline.Digest, CreatedAt = Sql.Ms(baseline.CreatedAt) },
            $"baseline '{baseline.Name}'");

    public async Task<bool> DeleteBaselineAsync(string name) =>
        await ExecuteAsync("DELETE FROM baselines WHERE name = @name", new { name }, "baseline") > 0;

    public Task<int> UpsertPoolAsync(PoolRecord pool) =>
        ScalarIntAsync(
            """
            INSERT INTO pools (name, version, document, created) VALUES (@Name, 1, @DocumentJson, @CreatedAt)
            ON CONFLICT (name) DO UPDATE SET version = pools.version + 1, document = excluded.document, created = excluded.created
            RETURNING version
            """,
            new { pool.Name, pool.DocumentJson, CreatedAt = Sql.Ms(pool.CreatedAt) },
            $"pool '{pool.Name}'");

    public async Task<bool> DeletePoolAsync(string name) =>
        await ExecuteAsync("DELETE FROM pools WHERE name = @name", new { name }, "pool") > 0;

    public async Task InsertReportAsync(ReportRecord report)
    {
        // The hot write path (parallel attestations, batches): one prepared command per transaction, reused for
        // every report, instead of a fresh statement per row.
        ObjectDisposedException.ThrowIf(_disposed, this);
        var command = _insertReport ??= await CreateInsertReportCommandAsync();
        var p = command.Parameters;
        p[0].Value = report.Id;
        p[1].Value = report.Host;
        p[2].Value = report.Trust;
        p[3].Value = Sql.Ms(report.VerifiedAt);
        p[4].Value = Sql.Ms(report.ValidFrom);
        p[5].Value = Sql.Ms(report.ValidTo);
        p[6].Value = report.Jws;
        p[7].Value = report.PayloadJson;
        p[8].Value = (object?)report.Enrollment ?? DBNull.Value;
        try
        {
            await command.ExecuteNonQueryAsync();
        }
        catch (DbException e) when (TrustStore.IsUniqueViolation(e))
        {
            throw new StoreConflictException($"The report '{report.Id}' already exists.", e);
        }
    }

    public Task AddNonceAsync(byte[] nonce, string host, DateTimeOffset expiresAt) =>
        ExecuteAsync(
            "INSERT INTO nonces (nonce, host, expires_at) VALUES (@nonce, @host, @expiresAt)",
            new { nonce, host, expiresAt = Sql.Ms(expiresAt) },
            "nonce");

    public Task InsertTokenAsync(TokenRecord token) =>
        ExecuteAsync(
            "INSERT INTO tokens (id, name, role, hash, created, revoked) VALUES (@Id, @Name, @Role, @Hash, @CreatedAt, @RevokedAt)",
            new { token.Id, token.Name, token.Role, token.Hash, CreatedAt = Sql.Ms(token.CreatedAt), RevokedAt = Sql.Ms(token.RevokedAt) },
            $"token '{token.Id}' (or its hash)");

    public async Task<bool> RevokeTokenAsync(string id, DateTimeOffset now) =>
        await ExecuteAsync("UPDATE tokens SET revoked = @now WHERE id = @id AND revoked IS NULL", new { id, now = Sql.Ms(now) }, "token") > 0;

    public Task InsertWebhookAsync(WebhookRecord webhook) =>
        ExecuteAsync(
            "INSERT INTO webhooks (id, url, secret, events, created) VALUES (@Id, @Url, @Secret, @EventsJson, @CreatedAt)",
            new { webhook.Id, webhook.Url, webhook.Secret, webhook.EventsJson, CreatedAt = Sql.Ms(webhook.CreatedAt) },
            $"webhook '{webhook.Id}'");

    public async Task<bool> DeleteWebhookAsync(string id) =>
        await ExecuteAsync("DELETE FROM webhooks WHERE id = @id", new { id }, "webhook") > 0;

    public void OnCommitted(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ThrowIfCommitted();
        (_onCommitted ??= []).Add(action);
    }

    public void Audit(params IEnumerable<AuditRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfCommitted();
        foreach (var record in records)
        {
            ArgumentNullException.ThrowIfNull(record);
            (_audit ??= []).Add(record);
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> CommitAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfCommitted();
        // The change's audit records go in last, inside the same transaction: both commit or neither does.
        IReadOnlyList<AuditEntry> entries = [];
        if (_audit is { } records)
        {
            _audit = null;
            entries = await _store.Appender.AppendAsync(this, records, _store.Time.GetUtcNow());
        }

        await Transaction.CommitAsync();
        _committed = true;

        // The change is committed: every action runs and the entries are published even if one of them fails (a bug),
        // which is then thrown once all have run. Actions run before the next SQLite writer may start, so it already
        // sees what they cache.
        List<Exception>? failures = null;
        if (_onCommitted is { } actions)
        {
            _onCommitted = null;
            foreach (var action in actions)
            {
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    (failures ??= []).Add(e);
                }
            }
        }

        // The write is over: let the next SQLite writer in now rather than at dispose, so the same flow may
        // write again (e.g. ConsumeNonceAsync) before its `await using` scope ends.
        ReleaseWriterLock();
        if (entries.Count > 0)
        {
            try
            {
                _store.OnAuditCommitted(entries);
            }
            catch (Exception e)
            {
                (failures ??= []).Add(e);
            }
        }

        if (failures is not null)
        {
            throw new AggregateException("The change committed, but an action after the commit failed.", failures);
        }

        return entries;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (_insertReport is not null)
            {
                await _insertReport.DisposeAsync();
            }

            // Disposing an uncommitted transaction rolls it back (both providers).
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
        finally
        {
            ReleaseWriterLock();
        }
    }

    private async Task<DbCommand> CreateInsertReportCommandAsync()
    {
        var command = Connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText =
            "INSERT INTO reports (id, host, trust, verified_at, valid_from, valid_to, jws, payload, enrollment) " +
            "VALUES (@id, @host, @trust, @verified_at, @valid_from, @valid_to, @jws, @payload, @enrollment)";
        (string Name, DbType Type)[] parameters =
        [
            ("id", DbType.String), ("host", DbType.String), ("trust", DbType.String), ("verified_at", DbType.Int64),
            ("valid_from", DbType.Int64), ("valid_to", DbType.Int64), ("jws", DbType.String), ("payload", DbType.String),
            ("enrollment", DbType.String),
        ];
        foreach (var (name, type) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.DbType = type;
            command.Parameters.Add(parameter);
        }

        await command.PrepareAsync();
        return command;
    }

    /// <summary>A record or action added after the commit would be silently lost: refuse it.</summary>
    private void ThrowIfCommitted()
    {
        if (_committed)
        {
            throw new InvalidOperationException("The transaction is already committed: record audit records and commit actions before CommitAsync.");
        }
    }

    private void ReleaseWriterLock() => _store.ExitWriter(Interlocked.Exchange(ref _holdsWriterLock, 0) == 1);

    private async Task<int> ExecuteAsync(string sql, object args, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return await Connection.ExecuteAsync(new CommandDefinition(sql, args, Transaction));
        }
        catch (DbException e) when (TrustStore.IsUniqueViolation(e))
        {
            throw new StoreConflictException($"The {what} already exists.", e);
        }
    }

    private async Task<int> ScalarIntAsync(string sql, object args, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return await Connection.ExecuteScalarAsync<int>(new CommandDefinition(sql, args, Transaction));
        }
        catch (DbException e) when (TrustStore.IsUniqueViolation(e))
        {
            throw new StoreConflictException($"A concurrent write created the same {what} version; retry.", e);
        }
    }
}
