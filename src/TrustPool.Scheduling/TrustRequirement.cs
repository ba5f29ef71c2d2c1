namespace TrustPool.Scheduling;

/// <summary>What a workload asks of its host's trust. JSON and command line spell it <c>required|preferred|any</c>.</summary>
public enum TrustRequirement
{
    /// <summary>Only hosts whose current (unexpired) report says trusted; <c>TrustFilter</c> rejects all others.</summary>
    Required,

    /// <summary>Any host passes the filter; trusted hosts get the <c>TrustPreferenceWeigher</c> bonus.</summary>
    Preferred,

    /// <summary>Trust plays no part in the placement.</summary>
    Any,
}

/// <summary>The <c>required|preferred|any</c> spelling of <see cref="TrustRequirement"/>.</summary>
public static class TrustRequirementText
{
    /// <summary>Parses <c>required</c>, <c>preferred</c> or <c>any</c> (ordinal, case-insensitive).</summary>
    /// <exception cref="FormatException">Naming the input.</exception>
    public static TrustRequirement Parse(string text) => text?.Trim().ToUpperInvariant() switch
    {
        "REQUIRED" => TrustRequirement.Required,
        "PREFERRED" => TrustRequirement.Preferred,
        "ANY" => TrustRequirement.Any,
        _ => throw new FormatException($"trust requirement '{text}': expected required, preferred or any"),
    };

    /// <summary>The lower-case wire spelling.</summary>
    public static string Format(TrustRequirement value) => value switch
    {
        TrustRequirement.Required => "required",
        TrustRequirement.Preferred => "preferred",
        TrustRequirement.Any => "any",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),
    };
}

/// <summary>Spread (least loaded first, Nova's default) or pack (most loaded first) for <c>LoadWeigher</c>.</summary>
public enum LoadStrategy
{
    /// <summary>Prefer the least loaded host.</summary>
    Spread,

    /// <summary>Prefer the most loaded host, keeping others free (and idle).</summary>
    Pack,
}
