using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace TrustPool.Server.Storage;

/// <summary>
/// Many reports (and the hosts' last-seen TPM clocks) written inside one transaction. On PostgreSQL one round trip
/// for the whole batch: an <see cref="NpgsqlBatch"/> of a multi-row <c>INSERT ... SELECT FROM unnest(arrays)</c> and an
/// <c>UPDATE hosts ... FROM unnest(arrays)</c>, instead of one round trip per row (which bounded the service at about
/// 650 reports/s, STORAGE.md). On SQLite, where a statement is a function call and not a round trip, the rows go
/// one by one through the transaction's prepared insert and one prepared clock update.
/// </summary>
public static class ReportBatches
{
    private const string InsertSql =
        "INSERT INTO reports (" + Sql.ReportColumns + ") " +
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[])";

    private const string ClockSql =
        "UPDATE hosts SET last_clock_info = u.clock FROM unnest($1::text[], $2::text[], $3::bytea[]) AS u(name, enrollment, clock) " +
        "WHERE hosts.name = u.name AND hosts.enrollment_id = u.enrollment";

    /// <summary>
    /// Inserts <paramref name="reports"/> and sets <c>last_clock_info</c> of each host in <paramref name="clocks"/> (when
    /// a host appears twice, the later clock wins), only while the host is still that enrollment: a clock read from a
    /// TPM whose host was removed or enrolled again meanwhile (an attestation in flight) is not the enrolled TPM's clock,
    /// and would make its next quotes look rolled back. A duplicate report id fails the whole call with
    /// <see cref="StoreConflictException"/>; the caller's transaction then holds nothing of the batch.
    /// </summary>
    public static async Task WriteReportsAsync(this IStoreTransaction tx, IReadOnlyList<ReportRecord> reports,
        IReadOnlyList<(string Host, string? Enrollment, byte[] ClockInfo)> clocks, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(reports);
        ArgumentNullException.ThrowIfNull(clocks);
        if (tx.Provider != TrustStore.PostgresProvider || tx.Connection is not NpgsqlConnection pg)
        {
            foreach (var r in reports)
            {
                await tx.InsertReportAsync(r);
            }

            if (clocks.Count == 0)
            {
                return;
            }

            // One prepared statement for the batch's clock updates (not a parse per row).
            await using var update = tx.Connection.CreateCommand();
            update.Transaction = tx.Transaction;
            update.CommandText = "UPDATE hosts SET last_clock_info = $clock WHERE name = $host AND enrollment_id = $enrollment";
            var clockParameter = update.CreateParameter();
            clockParameter.ParameterName = "$clock";
            var hostParameter = update.CreateParameter();
            hostParameter.ParameterName = "$host";
            var enrollmentParameter = update.CreateParameter();
            enrollmentParameter.ParameterName = "$enrollment";
            update.Parameters.Add(clockParameter);
            update.Parameters.Add(hostParameter);
            update.Parameters.Add(enrollmentParameter);
            await update.PrepareAsync(ct);
            foreach (var (host, enrollment, clock) in clocks)
            {
                clockParameter.Value = clock;
                hostParameter.Value = host;
                enrollmentParameter.Value = (object?)enrollment ?? DBNull.Value;
                await update.ExecuteNonQueryAsync(ct);
            }

            return;
        }

        await using var batch = new NpgsqlBatch(pg, (NpgsqlTransaction)tx.Transaction);
        if (reports.Count > 0)
        {
            var n = reports.Count;
            var ids = new string[n];
            var hosts = new string[n];
            var trusts = new string[n];
            var verified = new long[n];
            var from = new long[n];
            var to = new long[n];
            var jws = new string[n];
            var payloads = new string[n];
            var enrollments = new string?[n];
            for (var i = 0; i < n; i++)
            {
                var r = reports[i];
                ids[i] = r.Id;
                hosts[i] = r.Host;
                trusts[i] = r.Trust;
                verified[i] = Sql.Ms(r.VerifiedAt);
                from[i] = Sql.Ms(r.ValidFrom);
                to[i] = Sql.Ms(r.ValidTo);
                jws[i] = r.Jws;
                payloads[i] = r.PayloadJson;
                enrollments[i] = r.Enrollment;
            }

            var insert = new NpgsqlBatchCommand(InsertSql);
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = hosts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = trusts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = verified, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = from, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = to, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = jws, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = payloads, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = enrollments, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            batch.BatchCommands.Add(insert);
        }

        if (clocks.Count > 0)
        {
            // The later clock of a host's enrollment wins; UPDATE ... FROM would otherwise pick one of the duplicates
            // arbitrarily (of one host's enrollments at most one is current, and only its row matches).
            var latest = new Dictionary<(string Host, string? Enrollment), byte[]>();
            foreach (var (host, enrollment, clock) in clocks)
            {
                latest[(host, enrollment)] = clock;
            }

            var update = new NpgsqlBatchCommand(ClockSql);
            update.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. latest.Keys.Select(k => k.Host)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. latest.Keys.Select(k => k.Enrollment)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. latest.Values], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            batch.BatchCommands.Add(update);
        }

        if (batch.BatchCommands.Count == 0)
        {
            return;
        }

        try
        {
            await batch.ExecuteNonQueryAsync(ct);
        }
        catch (DbException e) when (TrustStore.IsUniqueViolation(e))
        {
            throw new StoreConflictException("A report of the batch already exists.", e);
        }
    }
}
