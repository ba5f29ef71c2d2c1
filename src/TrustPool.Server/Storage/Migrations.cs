using System.Data.Common;
using System.Globalization;
using Dapper;

namespace TrustPool.Server.Storage;

/// <summary>
/// The schema, as an ordered list of migrations applied at start in one transaction. The SQL runs on
/// SQLite and PostgreSQL alike; the only provider-specific token is <c>{blob}</c> (BLOB / BYTEA). A migration
/// with <see cref="Migration.OnlyFor"/> changes one provider's physical layout; the other records the version only.
/// Timestamps are BIGINT unix milliseconds UTC so ordering and comparison are identical on both.
/// Append new migrations at the end; never edit one that has shipped.
/// </summary>
public static class Migrations
{
    /// <summary>
    /// One schema step. <see cref="Code"/>, when set, runs after <see cref="Sql"/> in the same transaction, for what SQL alone
    /// cannot compute on both providers (hashes of stored keys).
    /// </summary>
    public sealed record Migration(int Version, string Description, string Sql, string? OnlyFor = null,
        Func<DbConnection, DbTransaction, CancellationToken, Task>? Code = null);

    // Serializes migrations of several service instances starting at once on one PostgreSQL database.
    private const long PostgresAdvisoryLockKey = 0x5472_7573_7450_6f6c; // "TrustPol"

    /// <summary>All migrations, in ascending version order.</summary>
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "initial schema", """
            CREATE TABLE hosts (
                name TEXT NOT NULL PRIMARY KEY,
                agent_url TEXT NOT NULL,
                tls_fingerprint TEXT NOT NULL,
                ek_public {blob} NOT NULL,
                ek_certificate {blob},
                ak_public {blob} NOT NULL,
                ak_name {blob} NOT NULL,
                ek_trust TEXT NOT NULL,
                state TEXT NOT NULL,
                tags TEXT NOT NULL,
                enrolled_at BIGINT NOT NULL,
                last_clock_info {blob},
                ima_offset BIGINT NOT NULL,
                ima_state TEXT,
                inventory TEXT,
                lease_owner TEXT,
                lease_until BIGINT NOT NULL DEFAULT 0
            );
            CREATE TABLE baselines (
                name TEXT NOT NULL,
                version INTEGER NOT NULL,
                kind TEXT NOT NULL,
                document TEXT NOT NULL,
                digest TEXT NOT NULL,
                created BIGINT NOT NULL,
                PRIMARY KEY (name, version)
            );
            CREATE TABLE pools (
                name TEXT NOT NULL PRIMARY KEY,
                version INTEGER NOT NULL,
                document TEXT NOT NULL,
                created BIGINT NOT NULL
            );
            CREATE TABLE reports (
                id TEXT NOT NULL PRIMARY KEY,
                host TEXT NOT NULL,
                trust TEXT NOT NULL,
                verified_at BIGINT NOT NULL,
                valid_from BIGINT NOT NULL,
                valid_to BIGINT NOT NULL,
                jws TEXT NOT NULL,
                payload TEXT NOT NULL
            );
            CREATE INDEX reports_host_verified_at ON reports (host, verified_at);
            CREATE TABLE nonces (
                nonce {blob} NOT NULL PRIMARY KEY,
                host TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            );
            CREATE INDEX nonces_expires_at ON nonces (expires_at);
            CREATE INDEX nonces_host ON nonces (host);
            CREATE TABLE tokens (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                hash {blob} NOT NULL UNIQUE,
                created BIGINT NOT NULL,
                revoked BIGINT
            );
            CREATE TABLE webhooks (
                id TEXT NOT NULL PRIMARY KEY,
                url TEXT NOT NULL,
                secret {blob} NOT NULL,
                events TEXT NOT NULL,
                created BIGINT NOT NULL
            );
            """),
        new(2, "placements", """
            CREATE TABLE placements (
                id TEXT NOT NULL PRIMARY KEY,
                workload TEXT NOT NULL,
                host TEXT NOT NULL,
                report_id TEXT,
                request TEXT NOT NULL,
                decision TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                released_at BIGINT
            );
            CREATE INDEX placements_host ON placements (host);
            """),
        new(3, "audit log", """
            CREATE TABLE audit_leaves (
                idx BIGINT NOT NULL PRIMARY KEY,
                type TEXT NOT NULL,
                record TEXT NOT NULL,
                leaf_hash {blob} NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE merkle_nodes (
                level INTEGER NOT NULL,
                idx BIGINT NOT NULL,
                hash {blob} NOT NULL,
                PRIMARY KEY (level, idx)
            );
            CREATE TABLE checkpoints (
                size BIGINT NOT NULL PRIMARY KEY,
                note TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            """),
        // SQLite stores a table whose key is not "INTEGER PRIMARY KEY" as a rowid B-tree plus a separate key index,
        // so every audit append wrote four B-trees; now two (audit_leaves keyed by its rowid, merkle_nodes clustered
        // on its key). Same columns and types; PostgreSQL's heap + index layout has nothing to gain.
        new(4, "audit tables clustered on their keys (SQLite)", """
            CREATE TABLE audit_leaves_v4 (
                idx INTEGER NOT NULL PRIMARY KEY,
                type TEXT NOT NULL,
                record TEXT NOT NULL,
                leaf_hash BLOB NOT NULL,
                created_at BIGINT NOT NULL
            );
            INSERT INTO audit_leaves_v4 (idx, type, record, leaf_hash, created_at)
                SELECT idx, type, record, leaf_hash, created_at FROM audit_leaves ORDER BY idx;
            DROP TABLE audit_leaves;
            ALTER TABLE audit_leaves_v4 RENAME TO audit_leaves;
            CREATE TABLE merkle_nodes_v4 (
                level INTEGER NOT NULL,
                idx BIGINT NOT NULL,
                hash BLOB NOT NULL,
                PRIMARY KEY (level, idx)
            ) WITHOUT ROWID;
            INSERT INTO merkle_nodes_v4 (level, idx, hash) SELECT level, idx, hash FROM merkle_nodes;
            DROP TABLE merkle_nodes;
            ALTER TABLE merkle_nodes_v4 RENAME TO merkle_nodes;
            """, OnlyFor: TrustStore.SqliteProvider),
        // Issue 13: one TPM is one host, and a report belongs to one enrollment. Every host gets a fresh enrollment id;
        // reports written before have none and so are no host's current report: every host is unknown until its next
        // attestation (a report cannot be proven to belong to the current enrollment: the name may have been removed
        // and re-added, and an attestation may have been in flight). The EK and AK keys are unique; of hosts that share
        // a TPM the earliest enrolled keeps it, the others lose their keys and must be enrolled again (BackfillIdentity).
        new(5, "enrollment ids on hosts and reports; one EK and one AK per host", """
            ALTER TABLE hosts ADD COLUMN enrollment_id TEXT;
            ALTER TABLE hosts ADD COLUMN ek_key {blob};
            ALTER TABLE hosts ADD COLUMN ak_key {blob};
            ALTER TABLE reports ADD COLUMN enrollment TEXT;
            CREATE INDEX reports_enrollment_verified_at ON reports (enrollment, verified_at);
            CREATE INDEX hosts_tls_fingerprint ON hosts (tls_fingerprint);
            """, Code: BackfillIdentityAsync),
    ];

    /// <summary>
    /// Migration 5: a new enrollment id for every host; EK key (<see cref="HostKeys.EkKey"/>) and AK key (its Name) for the
    /// earliest enrolled host of each TPM (then name order); a later host sharing either is marked re-enrollment-required
    /// with both keys NULL, so that the unique indexes created after hold. A stored EK that does not parse is treated the same.
    /// </summary>
    private static async Task BackfillIdentityAsync(DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var hosts = (await connection.QueryAsync<(string Name, byte[] EkPublic, byte[] AkName)>(new CommandDefinition(
            "SELECT name, ek_public, ak_name FROM hosts ORDER BY enrolled_at, name", transaction: tx, cancellationToken: ct))).ToList();
        var ekSeen = new HashSet<string>(StringComparer.Ordinal);
        var akSeen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, ekPublic, akName) in hosts)
        {
            var ekKey = HostKeys.TryEkKey(ekPublic);
            var keep = ekKey is not null && !ekSeen.Contains(Convert.ToHexString(ekKey)) && !akSeen.Contains(Convert.ToHexString(akName));
            if (keep)
            {
                ekSeen.Add(Convert.ToHexString(ekKey!));
                akSeen.Add(Convert.ToHexString(akName));
            }

            await connection.ExecuteAsync(new CommandDefinition(
                keep
                    ? "UPDATE hosts SET enrollment_id = @id, ek_key = @ekKey, ak_key = @akName WHERE name = @name"
                    : "UPDATE hosts SET enrollment_id = @id, ek_key = NULL, ak_key = NULL, state = 're-enrollment-required' WHERE name = @name",
                new { id = Guid.NewGuid().ToString("N"), ekKey, akName, name },
                tx,
                cancellationToken: ct));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "CREATE UNIQUE INDEX hosts_ek_key ON hosts (ek_key); CREATE UNIQUE INDEX hosts_ak_key ON hosts (ak_key)",
            transaction: tx,
            cancellationToken: ct));
    }

    /// <summary>The schema version this build writes and understands.</summary>
    public static int LatestVersion => All[^1].Version;

    /// <summary>The migration's SQL with the provider's type names.</summary>
    public static string SqlFor(Migration migration, string provider) =>
        migration.Sql.Replace("{blob}", provider == TrustStore.PostgresProvider ? "BYTEA" : "BLOB", StringComparison.Ordinal);

    /// <summary>
    /// Brings the schema to <see cref="LatestVersion"/> in one transaction; a no-op when it is current.
    /// A database newer than this build is refused with a <see cref="StoreException"/>. <paramref name="upTo"/> (tests only)
    /// stops after that version, to build an older schema and then migrate it.
    /// </summary>
    internal static async Task<int> ApplyAsync(DbConnection connection, string provider, long nowMs, CancellationToken ct, int? upTo = null)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (provider == TrustStore.PostgresProvider)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = PostgresAdvisoryLockKey }, tx, cancellationToken: ct));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            transaction: tx,
            cancellationToken: ct));
        var current = Convert.ToInt32(
            await connection.ExecuteScalarAsync(new CommandDefinition("SELECT COALESCE(MAX(version), 0) FROM schema_version", transaction: tx, cancellationToken: ct)),
            CultureInfo.InvariantCulture);
        if (current > LatestVersion)
        {
            throw new StoreException(
                $"The {provider} database has schema version {current}, newer than this TrustPool build knows ({LatestVersion}). " +
                "Refusing to run: upgrade TrustPool or use another database.");
        }

        foreach (var migration in All)
        {
            if (migration.Version <= current || migration.Version > (upTo ?? int.MaxValue))
            {
                continue;
            }

            if (migration.OnlyFor is null || migration.OnlyFor == provider)
            {
                await connection.ExecuteAsync(new CommandDefinition(SqlFor(migration, provider), transaction: tx, cancellationToken: ct));
                if (migration.Code is { } code)
                {
                    await code(connection, tx, ct);
                }
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (@Version, @Description, @AppliedAt)",
                new { migration.Version, migration.Description, AppliedAt = nowMs },
                tx,
                cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return Math.Max(current, Math.Min(upTo ?? LatestVersion, LatestVersion));
    }
}
