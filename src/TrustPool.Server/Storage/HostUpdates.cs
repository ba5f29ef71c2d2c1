using Dapper;

namespace TrustPool.Server.Storage;

/// <summary>
/// Narrow host updates inside a transaction: each touches only its own columns, so an attestation writing the
/// last-seen TPM clock never overwrites tags an operator changed meanwhile (as a whole-row update could).
/// </summary>
public static class HostUpdates
{
    /// <summary>The TPMS_CLOCK_INFO of the host's last verified quote (the rollback check compares against it).</summary>
    public static Task<bool> UpdateHostClockAsync(this IStoreTransaction tx, string host, byte[] clockInfo) =>
        UpdateAsync(tx, "UPDATE hosts SET last_clock_info = @value WHERE name = @host", host, clockInfo);

    /// <summary><c>enrolled</c> or <c>re-enrollment-required</c>.</summary>
    public static Task<bool> UpdateHostStateAsync(this IStoreTransaction tx, string host, string state) =>
        UpdateAsync(tx, "UPDATE hosts SET state = @value WHERE name = @host", host, state);

    /// <summary>The host's asset tags as a JSON object.</summary>
    public static Task<bool> UpdateHostTagsAsync(this IStoreTransaction tx, string host, string tagsJson) =>
        UpdateAsync(tx, "UPDATE hosts SET tags = @value WHERE name = @host", host, tagsJson);

    private static async Task<bool> UpdateAsync(IStoreTransaction tx, string sql, string host, object value)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var rows = await tx.Connection.ExecuteAsync(new CommandDefinition(sql, new { host, value }, tx.Transaction));
        return rows > 0;
    }
}
