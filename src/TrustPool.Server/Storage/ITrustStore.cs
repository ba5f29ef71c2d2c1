using System.Data.Common;
using TrustPool.Audit.Records;
using TrustPool.Server.Audit;

namespace TrustPool.Server.Storage;

/// <summary>
/// The service's persistent state, on SQLite or PostgreSQL with one schema (docs/STORAGE.md).
/// Safe for concurrent use from many threads. Reads go straight to the database; writes go through
/// <see cref="BeginAsync"/> except the few single-statement operations below.
/// </summary>
/// <remarks>
/// On SQLite writers are serialized in-process: while an <see cref="IStoreTransaction"/> is open (until it is
/// committed or disposed), the same
/// flow must not call a writing method of the store (<see cref="BeginAsync"/>, <see cref="ConsumeNonceAsync"/>,
/// <see cref="PurgeExpiredNoncesAsync"/>, <see cref="ClaimHostsAsync"/>): it would wait for itself and fail
/// with a <see cref="StoreException"/> after the writer timeout.
/// </remarks>
public interface ITrustStore : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgres".</summary>
    string Provider { get; }

    /// <summary>
    /// Raised after every commit that appended audit records, with the entries in log order (from the committing
    /// thread; handlers must be quick and must not throw).
    /// </summary>
    event Action<IReadOnlyList<AuditEntry>>? AuditCommitted;

    /// <summary>Starts a write transaction. Dispose without <see cref="IStoreTransaction.CommitAsync"/> rolls back.</summary>
    Task<IStoreTransaction> BeginAsync(CancellationToken ct = default);

    Task<HostRecord?> GetHostAsync(string name, CancellationToken ct = default);

    Task<IReadOnlyList<HostRecord>> ListHostsAsync(CancellationToken ct = default);

    /// <summary>One version of a baseline; <paramref name="version"/> null means the latest.</summary>
    Task<BaselineRecord?> GetBaselineAsync(string name, int? version = null, CancellationToken ct = default);

    /// <summary>The latest version of each baseline, by name.</summary>
    Task<IReadOnlyList<BaselineRecord>> ListBaselinesAsync(CancellationToken ct = default);

    /// <summary>All versions of one baseline, oldest first.</summary>
    Task<IReadOnlyList<BaselineRecord>> ListBaselineVersionsAsync(string name, CancellationToken ct = default);

    Task<PoolRecord?> GetPoolAsync(string name, CancellationToken ct = default);

    Task<IReadOnlyList<PoolRecord>> ListPoolsAsync(CancellationToken ct = default);

    Task<ReportRecord?> GetReportAsync(string id, CancellationToken ct = default);

    /// <summary>How many hosts have a trusted report verified at or after <paramref name="since"/>, counted in the database.</summary>
    Task<int> CountTrustedHostsSinceAsync(DateTimeOffset since, CancellationToken ct = default);

    /// <summary>One report verified at or after <paramref name="since"/> that is not trusted, or null.</summary>
    Task<ReportRecord?> FindNotTrustedReportSinceAsync(DateTimeOffset since, CancellationToken ct = default);

    /// <summary>
    /// The earliest enrolled host other than <paramref name="except"/> whose EK key (<see cref="HostKeys.EkKey"/>) or AK key
    /// (the AK's Name) is the one given: the host that already holds this TPM or AK.
    /// </summary>
    Task<HostRecord?> FindHostByKeysAsync(byte[]? ekKey, byte[]? akKey, string? except = null, CancellationToken ct = default);

    /// <summary>The earliest enrolled host other than <paramref name="except"/> whose agent presented this TLS certificate.</summary>
    Task<HostRecord?> FindHostByTlsFingerprintAsync(string fingerprint, string? except = null, CancellationToken ct = default);

    /// <summary>
    /// The report of the host's current enrollment with the greatest VerifiedAt (ties broken by id); null when the host
    /// does not exist or its current enrollment has no report yet. Reports of earlier enrollments are history only
    /// (<see cref="ListReportsAsync"/>).
    /// </summary>
    Task<ReportRecord?> GetLatestReportAsync(string host, CancellationToken ct = default);

    /// <summary>The latest report of the current enrollment of every host that has one, keyed by host name.</summary>
    Task<IReadOnlyDictionary<string, ReportRecord>> GetLatestReportsAsync(CancellationToken ct = default);

    /// <summary>A host's reports newest first, at most <paramref name="limit"/>, only those verified strictly before <paramref name="before"/> when given.</summary>
    Task<IReadOnlyList<ReportRecord>> ListReportsAsync(string host, int limit, DateTimeOffset? before = null, CancellationToken ct = default);

    /// <summary>The token with this hash, revoked ones too (the caller checks <see cref="TokenRecord.RevokedAt"/>).</summary>
    Task<TokenRecord?> FindTokenByHashAsync(byte[] hash, CancellationToken ct = default);

    Task<IReadOnlyList<TokenRecord>> ListTokensAsync(CancellationToken ct = default);

    Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(CancellationToken ct = default);

    /// <summary>
    /// Single use: atomically removes the nonce; true only if it existed for this host and had not expired at <paramref name="now"/>.
    /// A nonce issued to another host is left in place (and false returned); an expired one of this host is removed.
    /// </summary>
    Task<bool> ConsumeNonceAsync(byte[] nonce, string host, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Removes nonces with expires_at at or before <paramref name="now"/>; returns how many.</summary>
    Task<int> PurgeExpiredNoncesAsync(DateTimeOffset now, CancellationToken ct = default);

    /// <summary>
    /// Polling leases (ARCHITECTURE.md): claims up to <paramref name="limit"/> enrolled hosts whose lease is free or expired
    /// (no owner, or lease_until at or before <paramref name="now"/>), longest-expired first, sets owner =
    /// <paramref name="instanceId"/> and until = now + lease, returns their names. An instance's own unexpired leases are not
    /// returned again. PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED so two service instances never claim the same host.
    /// SQLite: one statement in one write transaction.
    /// </summary>
    Task<IReadOnlyList<string>> ClaimHostsAsync(string instanceId, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken ct = default);
}

/// <summary>A write transaction on one connection. Dispose without <see cref="CommitAsync"/> rolls back.</summary>
public interface IStoreTransaction : IAsyncDisposable
{
    /// <summary>The open connection, for SQL the interface does not cover (use <see cref="Transaction"/> with it).</summary>
    DbConnection Connection { get; }

    DbTransaction Transaction { get; }

    /// <summary>"sqlite" or "postgres".</summary>
    string Provider { get; }

    /// <summary>Reads a host inside the transaction; on PostgreSQL the row stays locked (FOR UPDATE) until commit or rollback.</summary>
    Task<HostRecord?> GetHostAsync(string name);

    /// <summary>Adds a host with a free lease. <see cref="StoreConflictException"/> if the name exists.</summary>
    Task InsertHostAsync(HostRecord host);

    /// <summary>Replaces every field of the host with this name (not its lease). <see cref="StoreNotFoundException"/> if missing.</summary>
    Task UpdateHostAsync(HostRecord host);

    /// <summary>Deletes the host and its nonces; its reports are history and stay. False if it did not exist.</summary>
    Task<bool> DeleteHostAsync(string name);

    /// <summary>Stores a new version (max + 1, or 1 for a new name) ignoring <see cref="BaselineRecord.Version"/>; returns it.</summary>
    Task<int> AddBaselineVersionAsync(BaselineRecord baseline);

    /// <summary>Deletes all versions of the baseline. False if there were none.</summary>
    Task<bool> DeleteBaselineAsync(string name);

    /// <summary>Creates the pool with version 1 or replaces it with version previous + 1; returns the version stored.</summary>
    Task<int> UpsertPoolAsync(PoolRecord pool);

    Task<bool> DeletePoolAsync(string name);

    /// <summary><see cref="StoreConflictException"/> if the id exists.</summary>
    Task InsertReportAsync(ReportRecord report);

    /// <summary><see cref="StoreConflictException"/> if the nonce exists.</summary>
    Task AddNonceAsync(byte[] nonce, string host, DateTimeOffset expiresAt);

    /// <summary><see cref="StoreConflictException"/> if the id or the hash exists.</summary>
    Task InsertTokenAsync(TokenRecord token);

    /// <summary>Sets RevokedAt = <paramref name="now"/>; false if the token does not exist or was already revoked.</summary>
    Task<bool> RevokeTokenAsync(string id, DateTimeOffset now);

    /// <summary><see cref="StoreConflictException"/> if the id exists.</summary>
    Task InsertWebhookAsync(WebhookRecord webhook);

    Task<bool> DeleteWebhookAsync(string id);

    /// <summary>
    /// Runs <paramref name="action"/> once after <see cref="CommitAsync"/> succeeded (never on rollback), for caches of
    /// committed state. Actions run in registration order, must not throw, and must not write to the store (they run
    /// while the SQLite writer lock is still held).
    /// </summary>
    void OnCommitted(Action action);

    /// <summary>
    /// Records what this change did for the Merkle audit log. The records are appended, in order, inside
    /// <see cref="CommitAsync"/> (they commit or roll back with the change) and then handed to
    /// <see cref="ITrustStore.AuditCommitted"/> (SIEM export). Every write that can change a verdict, a placement or who
    /// may act records here.
    /// </summary>
    void Audit(params IEnumerable<AuditRecord> records);

    /// <summary>Appends the recorded audit records, commits, runs the <see cref="OnCommitted"/> actions; returns where the records landed.</summary>
    Task<IReadOnlyList<AuditEntry>> CommitAsync();
}
