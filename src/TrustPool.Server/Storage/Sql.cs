using System.Data.Common;
using Dapper;

namespace TrustPool.Server.Storage;

/// <summary>
/// Column lists and row mapping shared by both providers. Rows are mapped by hand (ordinal reads) rather than
/// by Dapper's constructor mapping: timestamps are BIGINT milliseconds and SQLite returns every integer as Int64.
/// Dapper binds the parameters.
/// </summary>
internal static class Sql
{
    public const string HostColumns =
        "name, agent_url, tls_fingerprint, ek_public, ek_certificate, ak_public, ak_name, ek_trust, state, tags, enrolled_at, " +
        "last_clock_info, ima_offset, ima_state, inventory, enrollment_id, ek_key, ak_key";

    public const string BaselineColumns = "name, version, kind, document, digest, created";

    public const string PoolColumns = "name, version, document, created";

    public const string ReportColumns = "id, host, trust, verified_at, valid_from, valid_to, jws, payload, enrollment";

    /// <summary><see cref="ReportColumns"/> qualified by the alias <c>r</c>, for joins.</summary>
    public const string ReportColumnsR = "r.id, r.host, r.trust, r.verified_at, r.valid_from, r.valid_to, r.jws, r.payload, r.enrollment";

    /// <summary>
    /// Joins reports <c>r</c> to the host <c>h</c> whose current enrollment wrote them: a report of a removed host, or of
    /// an earlier enrollment of the same name, never matches (ARCHITECTURE.md "Trust semantics").
    /// </summary>
    public const string CurrentEnrollmentJoin = "JOIN hosts h ON h.name = r.host AND h.enrollment_id = r.enrollment";

    public const string TokenColumns = "id, name, role, hash, created, revoked";

    public const string WebhookColumns = "id, url, secret, events, created";

    public static long Ms(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static long? Ms(DateTimeOffset? value) => value?.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static HostRecord ReadHost(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        Bytes(r, 3),
        NullableBytes(r, 4),
        Bytes(r, 5),
        Bytes(r, 6),
        r.GetString(7),
        r.GetString(8),
        r.GetString(9),
        Time(r.GetInt64(10)),
        NullableBytes(r, 11),
        r.GetInt64(12),
        NullableString(r, 13),
        NullableString(r, 14),
        NullableString(r, 15),
        NullableBytes(r, 16),
        NullableBytes(r, 17));

    public static BaselineRecord ReadBaseline(DbDataReader r) =>
        new(r.GetString(0), checked((int)r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4), Time(r.GetInt64(5)));

    public static PoolRecord ReadPool(DbDataReader r) =>
        new(r.GetString(0), checked((int)r.GetInt64(1)), r.GetString(2), Time(r.GetInt64(3)));

    public static ReportRecord ReadReport(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        Time(r.GetInt64(3)),
        Time(r.GetInt64(4)),
        Time(r.GetInt64(5)),
        r.GetString(6),
        r.GetString(7),
        NullableString(r, 8));

    public static TokenRecord ReadToken(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        Bytes(r, 3),
        Time(r.GetInt64(4)),
        r.IsDBNull(5) ? null : Time(r.GetInt64(5)));

    public static WebhookRecord ReadWebhook(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), Bytes(r, 2), r.GetString(3), Time(r.GetInt64(4)));

    public static object HostArgs(HostRecord h) => new
    {
        h.Name,
        h.AgentUrl,
        h.TlsFingerprint,
        h.EkPublic,
        h.EkCertificate,
        h.AkPublic,
        h.AkName,
        h.EkTrust,
        h.State,
        h.TagsJson,
        EnrolledAt = Ms(h.EnrolledAt),
        h.LastClockInfo,
        h.ImaOffset,
        h.ImaStateJson,
        h.InventoryJson,
        h.EnrollmentId,
        h.EkKey,
        h.AkKey,
    };

    public static async Task<T?> ReadSingleAsync<T>(DbConnection connection, DbTransaction? tx, string sql, object? args, Func<DbDataReader, T> map, CancellationToken ct)
        where T : class
    {
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct));
        return await reader.ReadAsync(ct) ? map(reader) : null;
    }

    public static async Task<IReadOnlyList<T>> ReadListAsync<T>(DbConnection connection, DbTransaction? tx, string sql, object? args, Func<DbDataReader, T> map, CancellationToken ct)
    {
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct));
        var list = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            list.Add(map(reader));
        }

        return list;
    }

    private static byte[] Bytes(DbDataReader r, int ordinal) => r.GetFieldValue<byte[]>(ordinal);

    private static byte[]? NullableBytes(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetFieldValue<byte[]>(ordinal);

    private static string? NullableString(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);
}
