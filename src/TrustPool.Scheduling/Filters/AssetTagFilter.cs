namespace TrustPool.Scheduling.Filters;

/// <summary>
/// Required tags must be present with an equal value, forbidden ones absent or different. Keys are looked up with the
/// host dictionary's comparer; values compare ordinally (case-sensitive, any characters).
/// </summary>
internal static class AssetTagFilter
{
    public const string Name = "AssetTagFilter";

    public static bool Passes(HostView host, FilterContext c)
    {
        var keys = c.RequiredKeys;
        var forbiddenKeys = c.ForbiddenKeys;
        if (keys.Length == 0 && forbiddenKeys.Length == 0)
        {
            return true;
        }

        var tags = host.Tags;
        var values = c.RequiredValues;
        for (var i = 0; i < keys.Length; i++)
        {
            if (!tags.TryGetValue(keys[i], out var v) || !string.Equals(v, values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        var forbiddenValues = c.ForbiddenValues;
        for (var i = 0; i < forbiddenKeys.Length; i++)
        {
            if (tags.TryGetValue(forbiddenKeys[i], out var v) && string.Equals(v, forbiddenValues[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public static string Reason(HostView host, FilterContext c)
    {
        for (var i = 0; i < c.RequiredKeys.Length; i++)
        {
            var k = c.RequiredKeys[i];
            var want = c.RequiredValues[i];
            if (!host.Tags.TryGetValue(k, out var v))
            {
                return $"missing tag '{k}' (required '{k}={want}')";
            }

            if (!string.Equals(v, want, StringComparison.Ordinal))
            {
                return $"tag '{k}' is '{v}', required '{want}'";
            }
        }

        for (var i = 0; i < c.ForbiddenKeys.Length; i++)
        {
            var k = c.ForbiddenKeys[i];
            if (host.Tags.TryGetValue(k, out var v) && string.Equals(v, c.ForbiddenValues[i], StringComparison.Ordinal))
            {
                return $"forbidden tag '{k}={v}' present";
            }
        }

        return "passes";
    }
}
