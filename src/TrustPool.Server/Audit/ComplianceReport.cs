using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Audit.Records;
using TrustPool.Server.Api;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Audit;

/// <summary>What a compliance report is about: one workload, or one host over an interval.</summary>
public sealed record ComplianceQuery(string? Workload, string? Host, DateTimeOffset? From, DateTimeOffset? To)
{
    /// <summary>Checks the combination; <see cref="ServiceException"/> (bad input) names the field.</summary>
    public void Validate()
    {
        if ((Workload is null) == (Host is null))
        {
            throw ServiceException.Invalid("workload", "give either workload, or host with from and to");
        }

        if (Workload is { Length: 0 or > 253 })
        {
            throw ServiceException.Invalid("workload", "must be 1..253 characters");
        }

        if (Host is not null)
        {
            if (Host.Length is 0 or > 253)
            {
                throw ServiceException.Invalid("host", "must be 1..253 characters");
            }

            if (From is not { } from || To is not { } to)
            {
                throw ServiceException.Invalid(From is null ? "from" : "to", "is required with host (ISO 8601 time)");
            }

            if (to <= from)
            {
                throw ServiceException.Invalid("to", "must be after from");
            }
        }
    }
}

/// <summary>
/// The compliance report of issue 7 from the audit log alone, up to its latest signed checkpoint: where a workload ran
/// and when (or what a host did in an interval), the trust reports that covered each interval with the baseline
/// versions they matched, every gap in which the host was not trusted, and for every cited record its inclusion proof
/// against that checkpoint. The reader is not asked to trust this service: the CLI (<c>trustpool audit report</c>)
/// re-checks the checkpoint signature and every proof before it prints anything.
/// </summary>
public static class ComplianceReport
{
    /// <summary>Most placements one report lists; the rest are counted in <c>truncated</c>.</summary>
    public const int MaxPlacements = 200;

    private sealed record Entry(long Index, AuditRecord Record, string Json, byte[] LeafHash);

    public static async Task<JsonObject> BuildAsync(ITrustStore store, AuditLog log, ComplianceQuery query, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        var checkpoint = await log.CheckpointAsync(store, ct);
        var size = checkpoint.Size;
        List<Entry> made, released, reports;
        await using (var tx = await store.BeginAsync(ct))
        {
            made = await ReadAsync(tx, AuditRecordTypes.PlacementMade, size);
            released = await ReadAsync(tx, AuditRecordTypes.PlacementReleased, size);
            reports = await ReadAsync(tx, AuditRecordTypes.ReportIssued, size);
        }

        var proofs = new Dictionary<long, JsonObject>();
        async Task<JsonObject> CitedAsync(Entry e)
        {
            if (!proofs.TryGetValue(e.Index, out var cited))
            {
                var (_, proof) = await log.InclusionProofAsync(store, e.Index, size, ct);
                cited = new JsonObject
                {
                    ["index"] = e.Index,
                    ["type"] = e.Record.Type,
                    ["record"] = e.Json,
                    ["leafHash"] = Convert.ToBase64String(e.LeafHash),
                    ["inclusionProof"] = new JsonArray([.. proof.Select(h => (JsonNode)Convert.ToBase64String(h))]),
                };
                proofs[e.Index] = cited;
            }

            return (JsonObject)cited.DeepClone();
        }

        async Task<JsonArray> ReportsAsync(string host, DateTimeOffset from, DateTimeOffset to, string? reliedOn)
        {
            var list = new JsonArray();
            foreach (var r in reports.Where(r => F(r, "host") == host
                         && (F(r, "reportId") == reliedOn || (T(r, "validTo") > from && T(r, "validFrom") <= to))))
            {
                var id = F(r, "reportId")!;
                list.Add(new JsonObject
                {
                    ["reportId"] = id,
                    ["result"] = F(r, "result"),
                    ["validFrom"] = F(r, "validFrom"),
                    ["validTo"] = F(r, "validTo"),
                    ["reliedOn"] = reliedOn is not null && id == reliedOn,
                    ["baselines"] = await BaselinesAsync(store, id, ct),
                    ["audit"] = await CitedAsync(r),
                });
            }

            return list;
        }

        var result = new JsonObject
        {
            ["checkpoint"] = checkpoint.Note,
            ["checkpointSize"] = size,
            ["origin"] = log.Origin,
            ["keyName"] = log.Signer.KeyName,
            ["publicKey"] = log.PublicKeyPem,
            ["generatedAt"] = Iso(now),
        };
        var placements = new JsonArray();
        var selected = query.Workload is { } workload
            ? made.Where(m => F(m, "workload") == workload).ToList()
            : made.Where(m => F(m, "host") == query.Host).ToList();
        var truncated = 0;
        foreach (var m in selected)
        {
            var id = F(m, "placementId");
            var rel = released.FirstOrDefault(r => F(r, "placementId") == id);
            var from = m.Record.Time;
            var to = rel?.Record.Time ?? now;
            if (query.Host is not null && (to < query.From || from > query.To))
            {
                continue;
            }

            if (placements.Count == MaxPlacements)
            {
                truncated++;
                continue;
            }

            var host = F(m, "host")!;
            var reliedOn = F(m, "reportId");
            var covering = await ReportsAsync(host, from, to, reliedOn);
            placements.Add(new JsonObject
            {
                ["placementId"] = id,
                ["workload"] = F(m, "workload"),
                ["host"] = host,
                ["reportId"] = reliedOn,
                ["placedAt"] = Iso(from),
                ["releasedAt"] = rel is null ? null : Iso(rel.Record.Time),
                ["placedRecord"] = await CitedAsync(m),
                ["releasedRecord"] = rel is null ? null : await CitedAsync(rel),
                ["reports"] = covering,
                ["gaps"] = Gaps(reports.Where(r => F(r, "host") == host), from, to),
            });
        }

        if (query.Workload is not null)
        {
            result["workload"] = query.Workload;
        }
        else
        {
            var host = query.Host!;
            result["host"] = host;
            result["from"] = Iso(query.From!.Value);
            result["to"] = Iso(query.To!.Value);
            result["reports"] = await ReportsAsync(host, query.From.Value, query.To.Value, reliedOn: null);
            result["gaps"] = Gaps(reports.Where(r => F(r, "host") == host), query.From.Value, Min(query.To.Value, now));
        }

        result["placements"] = placements;
        result["truncatedPlacements"] = truncated;
        return result;
    }

    /// <summary>
    /// Where the host was not trusted inside [from, to): a report holds from its validFrom until it expires or the
    /// next report of the host replaces it, whichever is first; intervals under an untrusted or unknown report, and
    /// intervals under no valid report at all, are gaps.
    /// </summary>
    private static JsonArray Gaps(IEnumerable<Entry> hostReports, DateTimeOffset from, DateTimeOffset to)
    {
        var ordered = hostReports.OrderBy(r => T(r, "validFrom")).ThenBy(r => r.Index).ToList();
        var segments = new List<(DateTimeOffset Start, DateTimeOffset End, string? Result, string? ReportId)>();
        for (var i = 0; i < ordered.Count; i++)
        {
            var start = T(ordered[i], "validFrom");
            var end = T(ordered[i], "validTo");
            if (i + 1 < ordered.Count)
            {
                end = Min(end, T(ordered[i + 1], "validFrom"));
            }

            if (end > start)
            {
                segments.Add((start, end, F(ordered[i], "result"), F(ordered[i], "reportId")));
            }
        }

        var gaps = new JsonArray();
        var cursor = from;
        void Gap(DateTimeOffset a, DateTimeOffset b, string reason, string? reportId)
        {
            if (b <= a)
            {
                return;
            }

            if (gaps.Count > 0 && gaps[^1] is JsonObject last && last["reason"]!.GetValue<string>() == reason
                && last["reportId"]?.GetValue<string>() == reportId && last["to"]!.GetValue<string>() == Iso(a))
            {
                last["to"] = Iso(b);
                return;
            }

            gaps.Add(new JsonObject { ["from"] = Iso(a), ["to"] = Iso(b), ["reason"] = reason, ["reportId"] = reportId });
        }

        foreach (var (start, end, trust, reportId) in segments)
        {
            if (end <= cursor)
            {
                continue;
            }

            if (start >= to)
            {
                break;
            }

            Gap(cursor, Min(start, to), "no valid trust report", null);
            var s = Max(start, cursor);
            var e = Min(end, to);
            if (trust != "trusted")
            {
                Gap(s, e, $"report says {trust}", reportId);
            }

            cursor = Max(cursor, e);
        }

        Gap(cursor, to, "no valid trust report", null);
        return gaps;
    }

    /// <summary>The baselines and versions each pool rule of the report compared against (from the stored report, when kept).</summary>
    private static async Task<JsonArray> BaselinesAsync(ITrustStore store, string reportId, CancellationToken ct)
    {
        var baselines = new JsonArray();
        if (await store.GetReportAsync(reportId, ct) is not { } report)
        {
            return baselines;
        }

        var payload = JsonNode.Parse(report.PayloadJson);
        foreach (var rule in (payload?["pools"]?.AsArray() ?? []).SelectMany(pool => pool?["rules"]?.AsArray() ?? []))
        {
            if (rule?["baseline"] is { } b && b.GetValueKind() == JsonValueKind.String)
            {
                baselines.Add(new JsonObject { ["name"] = b.GetValue<string>(), ["version"] = rule["baselineVersion"]?.DeepClone(), ["passed"] = rule["passed"]?.DeepClone() });
            }
        }

        return baselines;
    }

    private static async Task<List<Entry>> ReadAsync(IStoreTransaction tx, string type, long size) =>
        [.. (await tx.ListAuditLeavesOfTypeAsync(type)).Where(l => l.Index < size).Select(l =>
            new Entry(l.Index, AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(l.RecordJson)), l.RecordJson, l.LeafHash))];

    private static string? F(Entry e, string field) => e.Record.Fields[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static DateTimeOffset T(Entry e, string field) =>
        DateTimeOffset.TryParse(F(e, field), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : e.Record.Time;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
