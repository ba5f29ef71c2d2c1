namespace TrustPool.Scheduling;

/// <summary>One host a filter rejected, with the filter's name (<c>TrustFilter</c>, <c>PoolFilter</c>, ...) and why.</summary>
public sealed record Rejection(string Host, string Filter, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{Host}: {Filter}: {Reason}";
}

/// <summary>A host that passed every filter, with its total weight and each weigher's contribution (0..1 × multiplier).</summary>
public sealed record WeighedHost(string Host, double Total, IReadOnlyDictionary<string, double> Weights);
