namespace TrustPool.Scheduling.Synthetic;

/// <summary>
/// Deterministic synthetic host sets for benchmarks and demos (not for production decisions): 70% trusted with a valid
/// report, 10% trusted but expired, 10% untrusted, 10% unknown (no report); pools <c>gold</c>/<c>silver</c>; tags
/// <c>country</c> (DE, FR, NL, US), <c>zone</c> (dmz, internal, edge) and <c>rack</c>; random capacity and usage,
/// load, performance, power (half efficiency scores, half watts); 0-4 placed workloads in a few groups.
/// </summary>
public static class SyntheticHosts
{
    private static readonly string[] s_countries = ["DE", "FR", "NL", "US"];
    private static readonly string[] s_zones = ["dmz", "internal", "edge"];
    private static readonly string[] s_groups = ["web", "db", "cache", "batch"];
    private static readonly int[] s_vcpus = [16, 32, 64, 96, 128];

    /// <summary>Generates <paramref name="count"/> hosts named <c>host-000001</c>..., the same for the same seed and clock.</summary>
    public static HostView[] Generate(int count, DateTimeOffset now, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new Random(seed);
        var hosts = new HostView[count];
        for (var i = 0; i < count; i++)
        {
            var name = $"host-{i + 1:D6}";
            var roll = rng.NextDouble();
            var (trust, validTo) = roll switch
            {
                < 0.70 => (HostTrust.Trusted, now.AddMinutes(5 + rng.Next(60))),
                < 0.80 => (HostTrust.Trusted, now.AddMinutes(-1 - rng.Next(60))),
                < 0.90 => (HostTrust.Untrusted, now.AddMinutes(5 + rng.Next(60))),
                _ => (HostTrust.Unknown, (DateTimeOffset?)null),
            };
            var pools = new Dictionary<string, HostTrust>(StringComparer.Ordinal);
            if (validTo is not null)
            {
                pools["gold"] = trust == HostTrust.Trusted && rng.NextDouble() < 0.9 ? HostTrust.Trusted : HostTrust.Untrusted;
                pools["silver"] = trust == HostTrust.Trusted ? HostTrust.Trusted : HostTrust.Untrusted;
            }

            var tags = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["country"] = s_countries[rng.Next(s_countries.Length)],
                ["zone"] = s_zones[rng.Next(s_zones.Length)],
                ["rack"] = $"r{rng.Next(100):D2}",
            };
            var vcpus = s_vcpus[rng.Next(s_vcpus.Length)];
            var capacity = new Resources(vcpus, vcpus * 4096L * (1 + rng.Next(2)), 500L << rng.Next(3));
            var fill = rng.NextDouble() * 0.95;
            var used = new Resources((int)(capacity.VCpus * fill), (long)(capacity.MemoryMb * fill), (long)(capacity.DiskGb * fill));
            var workloads = new PlacedWorkload[rng.Next(5)];
            for (var w = 0; w < workloads.Length; w++)
            {
                var group = s_groups[rng.Next(s_groups.Length)];
                workloads[w] = new PlacedWorkload(
                    $"{name}-w{w}", $"{group}-{i}-{w}", new Resources(2, 4096, 20),
                    rng.NextDouble() < 0.8 ? TrustRequirement.Required : TrustRequirement.Any,
                    ["gold"], null, group, trust == HostTrust.Trusted ? $"report-{i + 1}" : null);
            }

            var efficiency = rng.NextDouble() < 0.5;
            var idle = 80 + rng.Next(120);
            hosts[i] = new HostView
            {
                Name = name,
                Capacity = capacity,
                Used = used,
                Trust = trust,
                ReportId = validTo is null ? null : $"report-{i + 1}",
                ValidTo = validTo,
                Pools = pools,
                Tags = tags,
                PowerEfficiency = efficiency ? Math.Round(rng.NextDouble(), 3) : null,
                IdleWatts = efficiency ? null : idle,
                PeakWatts = efficiency ? null : idle + 100 + rng.Next(400),
                Load = Math.Round(rng.NextDouble(), 3),
                Performance = 50 + rng.Next(100),
                Workloads = workloads,
            };
        }

        return hosts;
    }

    /// <summary>
    /// Requests that exercise every filter and the three weighers: trust required, pool <c>gold</c>,
    /// <c>country=X</c> and <c>!zone=dmz</c>, an anti-affinity group, a few vCPUs (rotating over countries and groups).
    /// </summary>
    public static WorkloadRequest[] Requests() =>
        [.. s_countries.Select((c, i) => new WorkloadRequest
        {
            Name = $"bench-{c}",
            Resources = new Resources(2 + i, 4096L * (1 + i), 20 + (10 * i)),
            Trust = TrustRequirement.Required,
            Pools = ["gold"],
            Tags = [new TagRequirement("country", c, false), new TagRequirement("zone", "dmz", true)],
            AntiAffinityGroup = s_groups[i % s_groups.Length],
        })];
}
