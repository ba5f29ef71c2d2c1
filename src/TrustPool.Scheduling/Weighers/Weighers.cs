namespace TrustPool.Scheduling.Weighers;

/// <summary>
/// Prefers power-efficient hosts. The host's <see cref="HostView.PowerEfficiency"/> score wins when set (higher is
/// better); otherwise, with both idle and peak watts, the marginal draw this workload adds,
/// <c>(peak − idle) × requested vCPUs / capacity vCPUs</c> (fewer watts is better). Scores and watts are not the same
/// unit, so each kind is normalised to 0..1 among the candidates of that kind; hosts with neither get 0.
/// </summary>
internal static class PowerWeigher
{
    public const string Name = "PowerWeigher";

    public const byte NoData = 0;
    public const byte Score = 1;
    public const byte Watts = 2;

    /// <summary>Raw value (higher is better) and which kind it is.</summary>
    public static double Raw(HostView host, in Resources request, out byte kind)
    {
        if (host.PowerEfficiency is { } score)
        {
            kind = Score;
            return score;
        }

        if (host.IdleWatts is { } idle && host.PeakWatts is { } peak)
        {
            kind = Watts;
            var share = host.Capacity.VCpus > 0 ? Math.Min(1.0, (double)request.VCpus / host.Capacity.VCpus) : 1.0;
            return -(peak - idle) * share;
        }

        kind = NoData;
        return 0;
    }
}

/// <summary>Spread: prefers the least loaded host (raw <c>1 − load</c>); pack: the most loaded (raw <c>load</c>).</summary>
internal static class LoadWeigher
{
    public const string Name = "LoadWeigher";

    public static double Raw(HostView host, LoadStrategy strategy) =>
        strategy == LoadStrategy.Pack ? host.Load : 1.0 - host.Load;
}

/// <summary>Prefers faster hosts (raw <see cref="HostView.Performance"/>).</summary>
internal static class PerformanceWeigher
{
    public const string Name = "PerformanceWeigher";

    public static double Raw(HostView host) => host.Performance;
}

/// <summary>Only for <see cref="TrustRequirement.Preferred"/>: 1 for a host trusted now (valid report), else 0.</summary>
internal static class TrustPreferenceWeigher
{
    public const string Name = "TrustPreferenceWeigher";

    public static double Raw(HostView host, long nowUtcTicks) =>
        host.Trust == HostTrust.Trusted && host.ValidTo is { } v && nowUtcTicks < v.UtcTicks ? 1.0 : 0.0;
}

/// <summary>Nova's normalisation: (raw − min) / (max − min), all 0 when every candidate has the same raw value.</summary>
internal struct MinMax
{
    private double _min;
    private double _max;
    private bool _any;

    public void Add(double value)
    {
        if (!_any)
        {
            _min = _max = value;
            _any = true;
            return;
        }

        if (value < _min)
        {
            _min = value;
        }

        if (value > _max)
        {
            _max = value;
        }
    }

    public readonly double Normalize(double value) => _any && _max > _min ? (value - _min) / (_max - _min) : 0.0;
}
