using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Audit.Records;

namespace TrustPool.Audit.Compliance;

/// <summary>The signed checkpoint a report is built up to, and the key that signed it.</summary>
public sealed record ComplianceLog(string CheckpointNote, long Size, string Origin, string KeyName, string PublicKeyPem);

/// <summary>One leaf of the audit log: its index, the canonical record text and its RFC 6962 leaf hash.</summary>
public sealed record ComplianceLeaf(long Index, string RecordJson, byte[] LeafHash);

/// <summary>The leaves of the record types a compliance report reads, each in log order.</summary>
public sealed record ComplianceLeaves(IReadOnlyList<ComplianceLeaf> PlacementsMade, IReadOnlyList<ComplianceLeaf> PlacementsReleased, IReadOnlyList<ComplianceLeaf> ReportsIssued);

/// <summary>What the report builder asks of the log's owner, only for the records it cites.</summary>
public interface IComplianceSource
{
    /// <summary>The RFC 9162 inclusion proof of leaf <paramref name="index"/> in the tree of <paramref name="size"/> leaves.</summary>
    Task<IReadOnlyList<byte[]>> InclusionProofAsync(long index, long size, CancellationToken ct);

    /// <summary>The stored payload (JSON) of the trust report with this id, or null when it is not kept.</summary>
    Task<string?> ReportPayloadAsync(string reportId, CancellationToken ct);
}

/// <summary>
/// The compliance report of issue 7 from the audit log alone, up to its latest signed checkpoint: where a workload ran
/// and when (or what a host did in an interval), the trust reports that covered each interval with the baseline
/// versions they matched, every gap in which the host was not trusted, and for every cited record its inclusion proof
/// against that checkpoint. The reader is not asked to trust the service: <see cref="ComplianceReportVerifier"/>
/// (<c>trustpool audit report</c>) re-checks the checkpoint signature and every proof before anything is printed.
/// Pure: the caller reads the log and hands over its leaves and a <see cref="IComplianceSource"/>.
/// </summary>
public static class ComplianceReportBuilder
{
    /// <summary>Most placements one report lists; the rest are counted in <c>truncated</c>.</summary>
    public const int MaxPlacements = 200;

    private sealed record Entry(long Index, AuditRecord Record, string Json, byte[] LeafHash);

    /// <summary>
    /// Builds the report of <paramref name="query"/> from the log's leaves of the three record types it reads (each
    /// below <see cref="ComplianceLog.Size"/>), asking <paramref name="source"/> for inclusion proofs of the records it
    /// cites and for the stored payloads of the reports it lists. <see cref="ComplianceQueryException"/> when the
    /// query is not a valid combination; <see cref="AuditRecordFormatException"/> when a leaf is not a canonical record.
    /// </summary>
    public static async Task<JsonObject> BuildAsync(ComplianceQuery query, ComplianceLog log, ComplianceLeaves leaves, IComplianceSource source, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(source);
        query.Validate();
        var size = log.Size;
        var made = Read(leaves.PlacementsMade, size);
        var released = Read(leaves.PlacementsReleased, size);
        var reports = Read(leaves.ReportsIssued, size);

        var proofs = new Dictionary<long, JsonObject>();
        async Task<JsonObject> CitedAsync(Entry e)
        {
            if (!proofs.TryGetValue(e.Index, out var cited))
            {
                var proof = await source.InclusionProofAsync(e.Index, size, ct);
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
                    ["baselines"] = Baselines(await source.ReportPayloadAsync(id, ct)),
                    ["audit"] = await CitedAsync(r),
                });
            }

            return list;
        }

        var result = new JsonObject
        {
            ["checkpoint"] = log.CheckpointNote,
            ["checkpointSize"] = size,
            ["origin"] = log.Origin,
            ["keyName"] = log.KeyName,
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

    /// <summary>The baselines and versions each pool rule of the report compared against (from the stored report payload, when kept).</summary>
    private static JsonArray Baselines(string? payloadJson)
    {
        var baselines = new JsonArray();
        if (payloadJson is null)
        {
            return baselines;
        }

        var payload = JsonNode.Parse(payloadJson);
        foreach (var rule in (payload?["pools"]?.AsArray() ?? []).SelectMany(pool => pool?["rules"]?.AsArray() ?? []))
        {
            if (rule?["baseline"] is { } b && b.GetValueKind() == JsonValueKind.String)
            {
                baselines.Add(new JsonObject { ["name"] = b.GetValue<string>(), ["version"] = rule["baselineVersion"]?.DeepClone(), ["passed"] = rule["passed"]?.DeepClone() });
            }
        }

        return baselines;
    }

    private static List<Entry> Read(IEnumerable<ComplianceLeaf> leaves, long size) =>
        [.. leaves.Where(l => l.Index < size).Select(l =>
            new Entry(l.Index, AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(l.RecordJson)), l.RecordJson, l.LeafHash))];

    private static string? F(Entry e, string field) => e.Record.Fields[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static DateTimeOffset T(Entry e, string field) =>
        DateTimeOffset.TryParse(F(e, field), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : e.Record.Time;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
