namespace TrustPool.Attestation.Pools;

/// <summary>
/// What a pool requires of a host (ARCHITECTURE.md "Terms", pool): platform, os and host-unique baselines any-of
/// (one listed baseline must match), software baselines all-of, and asset tags equal. An empty list is no
/// requirement of that kind. A pool must require a measurement of what booted (<see cref="RequiresMeasurement"/>):
/// tags are asserted by an operator and an IMA allowlist says nothing about the firmware or the boot chain.
/// </summary>
public sealed record PoolRequirement
{
    public IReadOnlyList<string> Platform { get; init; } = [];

    public IReadOnlyList<string> Os { get; init; } = [];

    public IReadOnlyList<string> Software { get; init; } = [];

    public IReadOnlyList<string> HostUnique { get; init; } = [];

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// True when the pool requires at least one platform, os or host-unique baseline: PCR values the TPM quoted, which
    /// the firmware and boot chain extended. Only such a pool can make a host trusted (issue 13, hole 4); a pool without
    /// one is refused by <see cref="PoolJson.Parse"/> and never trusted by the evaluator.
    /// </summary>
    public bool RequiresMeasurement => Platform.Count > 0 || Os.Count > 0 || HostUnique.Count > 0;

    /// <summary>True when nothing at all is required (such a pool is rejected by <see cref="PoolJson.Parse"/>).</summary>
    public bool IsEmpty => Platform.Count == 0 && Os.Count == 0 && Software.Count == 0 && HostUnique.Count == 0 && Tags.Count == 0;

    /// <summary>Every baseline name referenced, each once.</summary>
    public IEnumerable<string> BaselineNames => Platform.Concat(Os).Concat(HostUnique).Concat(Software).Distinct(StringComparer.Ordinal);
}

/// <summary>A named trusted compute pool.</summary>
public sealed record Pool(string Name, PoolRequirement Require)
{
    public int Version { get; init; } = 1;
}

/// <summary>A pool document that is not valid; <see cref="Field"/> names the JSON field at fault.</summary>
public sealed class PoolFormatException : Exception
{
    public PoolFormatException()
        : this("document", "invalid pool")
    {
    }

    public PoolFormatException(string message)
        : this("document", message)
    {
    }

    public PoolFormatException(string message, Exception innerException)
        : base(message, innerException) => Field = "document";

    public PoolFormatException(string field, string reason)
        : base($"pool field '{field}': {reason}") => Field = field;

    public string Field { get; }
}
