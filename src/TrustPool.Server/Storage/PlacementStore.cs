using Dapper;

namespace TrustPool.Server.Storage;

/// <summary>A workload placed on a host: the request, the scheduler's decision (explanation) and the report relied on.</summary>
public sealed record PlacementRecord(string Id, string Workload, string Host, string? ReportId, string RequestJson, string DecisionJson,
    DateTimeOffset CreatedAt, DateTimeOffset? ReleasedAt);

/// <summary>Placements in the store (schema version 2), read and written inside a transaction.</summary>
public static class PlacementStore
{
    private const string Columns = "id, workload, host, report_id, request, decision, created_at, released_at";

    public static async Task InsertPlacementAsync(this IStoreTransaction tx, PlacementRecord p)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(p);
        await tx.Connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO placements ({Columns}) VALUES (@Id, @Workload, @Host, @ReportId, @RequestJson, @DecisionJson, @CreatedAt, @ReleasedAt)",
            new { p.Id, p.Workload, p.Host, p.ReportId, p.RequestJson, p.DecisionJson, CreatedAt = Sql.Ms(p.CreatedAt), ReleasedAt = Sql.Ms(p.ReleasedAt) },
            tx.Transaction));
    }

    /// <summary>Marks a placement released; false when it does not exist or was released already.</summary>
    public static async Task<bool> ReleasePlacementAsync(this IStoreTransaction tx, string id, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var rows = await tx.Connection.ExecuteAsync(new CommandDefinition(
            "UPDATE placements SET released_at = @at WHERE id = @id AND released_at IS NULL", new { id, at = Sql.Ms(at) }, tx.Transaction));
        return rows > 0;
    }

    /// <summary>Placements, newest first: active ones only unless <paramref name="includeReleased"/>, optionally of one host.</summary>
    public static async Task<IReadOnlyList<PlacementRecord>> ListPlacementsAsync(this IStoreTransaction tx, bool includeReleased, string? host = null, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var where = new List<string>();
        if (!includeReleased)
        {
            where.Add("released_at IS NULL");
        }

        if (host is not null)
        {
            where.Add("host = @host");
        }

        if (id is not null)
        {
            where.Add("id = @id");
        }

        var sql = $"SELECT {Columns} FROM placements" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY created_at DESC, id";
        var rows = await tx.Connection.QueryAsync<Row>(new CommandDefinition(sql, new { host, id }, tx.Transaction));
        return [.. rows.Select(r => new PlacementRecord(r.id, r.workload, r.host, r.report_id, r.request, r.decision, Sql.Time(r.created_at),
            r.released_at is { } rel ? Sql.Time(rel) : null))];
    }

    /// <summary>The host's inventory document (capacity, power, load, performance) as JSON.</summary>
    public static async Task<bool> UpdateHostInventoryAsync(this IStoreTransaction tx, string host, string inventoryJson)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var rows = await tx.Connection.ExecuteAsync(new CommandDefinition("UPDATE hosts SET inventory = @inventoryJson WHERE name = @host", new { host, inventoryJson }, tx.Transaction));
        return rows > 0;
    }

#pragma warning disable IDE1006, CA1812 // Dapper maps columns to these names; instantiated by Dapper.
    private sealed class Row
    {
        public string id { get; set; } = "";
        public string workload { get; set; } = "";
        public string host { get; set; } = "";
        public string? report_id { get; set; }
        public string request { get; set; } = "";
        public string decision { get; set; } = "";
        public long created_at { get; set; }
        public long? released_at { get; set; }
    }
#pragma warning restore IDE1006, CA1812
}
