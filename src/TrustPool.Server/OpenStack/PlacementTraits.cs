using System.Text;

namespace TrustPool.Server.OpenStack;

/// <summary>
/// The traits TrustPool owns on OpenStack Placement resource providers (ARCHITECTURE.md): <c>CUSTOM_TRUSTPOOL_TRUSTED</c>,
/// <c>CUSTOM_TRUSTPOOL_TAG_&lt;KEY&gt;_&lt;VALUE&gt;</c>, <c>CUSTOM_TRUSTPOOL_POOL_&lt;NAME&gt;</c>. Every other trait
/// on a provider belongs to someone else and is kept.
/// </summary>
public static class PlacementTraits
{
    public const string Prefix = "CUSTOM_TRUSTPOOL_";
    public const string Trusted = Prefix + "TRUSTED";

    /// <summary>Placement limits trait names to 255 characters of [A-Z0-9_].</summary>
    public const int MaxLength = 255;

    public static bool IsOurs(string trait) => trait.StartsWith(Prefix, StringComparison.Ordinal);

    public static string Tag(string key, string value) => Clip(Prefix + "TAG_" + Normalize(key) + "_" + Normalize(value));

    public static string Pool(string name) => Clip(Prefix + "POOL_" + Normalize(name));

    /// <summary>The traits a host should carry: nothing unless it is trusted now; then trusted, its tags and its trusted pools.</summary>
    public static SortedSet<string> Desired(bool trusted, IReadOnlyDictionary<string, string> tags, IEnumerable<string> trustedPools)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        if (!trusted)
        {
            return set;
        }

        set.Add(Trusted);
        foreach (var (k, v) in tags)
        {
            set.Add(Tag(k, v));
        }

        foreach (var p in trustedPools)
        {
            set.Add(Pool(p));
        }

        return set;
    }

    /// <summary>Upper-case; every character outside A-Z and 0-9 (after upper-casing, ASCII only) becomes '_'.</summary>
    public static string Normalize(string s)
    {
        var b = new StringBuilder(s.Length);
        foreach (var c in s.ToUpperInvariant())
        {
            b.Append(c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') ? c : '_');
        }

        return b.ToString();
    }

    private static string Clip(string s) => s.Length <= MaxLength ? s : s[..MaxLength];
}
