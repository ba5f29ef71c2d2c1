using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Scheduling;
using TrustPool.Server.Api;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Placements;

/// <summary>A host's inventory as operators send it with <c>PUT /v1/hosts/{name}/inventory</c>.</summary>
public sealed record HostInventory(int VCpus, long MemoryMb, long DiskGb, double? IdleWatts, double? PeakWatts, double? PowerEfficiency, double Load, double Performance)
{
    public static readonly HostInventory None = new(0, 0, 0, null, null, null, 0, 1);

    public static HostInventory Parse(JsonBody body)
    {
        int Int(string field, int max)
        {
            if (!body.Root.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i) || i < 0 || i > max)
            {
                throw ServiceException.Invalid(field, $"must be an integer 0..{max}");
            }

            return i;
        }

        double? Num(string field, double max, bool required = false)
        {
            if (!body.Root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return required ? throw ServiceException.Invalid(field, "is required") : null;
            }

            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || d < 0 || d > max || double.IsNaN(d))
            {
                throw ServiceException.Invalid(field, $"must be a number 0..{max}");
            }

            return d;
        }

        return new HostInventory(Int("vcpus", 1 << 20), Int("memoryMb", int.MaxValue), Int("diskGb", int.MaxValue), Num("idleWatts", 100_000), Num("peakWatts", 100_000),
            Num("powerEfficiency", 1e9), Num("load", 1) ?? 0, Num("performance", 1e9) ?? 1);
    }

    public string ToJson() => JsonSerializer.Serialize(this, HostViews.Json);

    public static HostInventory FromJson(string? json) => json is null ? None : JsonSerializer.Deserialize<HostInventory>(json, HostViews.Json) ?? None;
}

/// <summary>Builds the scheduler's host views from the store: inventory, tags, the latest report's trust per pool, placements.</summary>
public static class HostViews
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The enrolled hosts; with <paramref name="withRemovedHosts"/> also, as unknown hosts with no capacity, every
    /// removed host that still has active placements (what an evacuation plan must move: a removed host is unknown at
    /// once, its trust-requiring workloads with it). Never for a placement decision: nothing is placed on a removed host.
    /// </summary>
    public static async Task<IReadOnlyList<HostView>> LoadAsync(ITrustStore store, CancellationToken ct, bool withRemovedHosts = false)
    {
        var hosts = await store.ListHostsAsync(ct);
        var latest = await store.GetLatestReportsAsync(ct);
        IReadOnlyList<PlacementRecord> placements;
        await using (var tx = await store.BeginAsync(ct))
        {
            placements = await tx.ListPlacementsAsync(includeReleased: false);
        }

        var byHost = placements.GroupBy(p => p.Host, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var views = new List<HostView>(hosts.Count);
        foreach (var h in hosts)
        {
            var inventory = HostInventory.FromJson(h.InventoryJson);
            var workloads = (byHost.GetValueOrDefault(h.Name) ?? []).Select(ToWorkload).ToList();
            var used = workloads.Aggregate(new Resources(0, 0, 0), (a, w) => a + w.Resources);
            var report = latest.GetValueOrDefault(h.Name);
            var trust = HostTrust.Unknown;
            var pools = new Dictionary<string, HostTrust>(StringComparer.Ordinal);
            if (report is not null && h.State == Enrollment.HostStates.Enrolled)
            {
                var parsed = TrustReportJson.Parse(report.PayloadJson);
                trust = Map(parsed.Trust);
                foreach (var p in parsed.Pools)
                {
                    pools[p.Pool] = Map(p.Trust);
                }
            }

            views.Add(new HostView
            {
                Name = h.Name,
                Capacity = new Resources(inventory.VCpus, inventory.MemoryMb, inventory.DiskGb),
                Used = used,
                Trust = trust,
                ReportId = report?.Id,
                ValidTo = report?.ValidTo,
                Pools = pools,
                Tags = JsonSerializer.Deserialize<Dictionary<string, string>>(h.TagsJson) ?? [],
                IdleWatts = inventory.IdleWatts,
                PeakWatts = inventory.PeakWatts,
                PowerEfficiency = inventory.PowerEfficiency,
                Load = inventory.Load,
                Performance = inventory.Performance,
                Workloads = workloads,
            });
        }

        if (withRemovedHosts)
        {
            var enrolled = hosts.Select(h => h.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, list) in byHost.Where(kv => !enrolled.Contains(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var workloads = list.Select(ToWorkload).ToList();
                views.Add(new HostView
                {
                    Name = name,
                    Used = workloads.Aggregate(new Resources(0, 0, 0), (a, w) => a + w.Resources),
                    Trust = HostTrust.Unknown,
                    Workloads = workloads,
                });
            }
        }

        return views;
    }

    private static HostTrust Map(TrustLevel t) => t switch
    {
        TrustLevel.Trusted => HostTrust.Trusted,
        TrustLevel.Untrusted => HostTrust.Untrusted,
        _ => HostTrust.Unknown,
    };

    public static PlacedWorkload ToWorkload(PlacementRecord p)
    {
        var r = WorkloadJson.Parse(JsonNode.Parse(p.RequestJson)!);
        return new PlacedWorkload(p.Id, p.Workload, r.Resources, r.Trust, r.Pools, r.AffinityGroup, r.AntiAffinityGroup, p.ReportId, r.Tags);
    }

    public static string Format(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);
}
