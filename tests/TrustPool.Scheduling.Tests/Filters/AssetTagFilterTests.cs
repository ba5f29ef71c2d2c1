namespace TrustPool.Scheduling.Tests.Filters;

public class AssetTagFilterTests
{
    public static TheoryData<string, string[], string[], bool, string?> Cases => new()
    {
        { "required present", ["country", "DE"], ["country=DE"], true, null },
        { "values are case-sensitive", ["country", "de"], ["country=DE"], false, "tag 'country' is 'de', required 'DE'" },
        { "required missing", ["zone", "edge"], ["country=DE"], false, "missing tag 'country'" },
        { "forbidden present", ["zone", "dmz"], ["!zone=dmz"], false, "forbidden tag 'zone=dmz' present" },
        { "forbidden key, other value", ["zone", "internal"], ["!zone=dmz"], true, null },
        { "forbidden absent", [], ["!zone=dmz"], true, null },
        { "unicode value", ["standort", "Zürich"], ["standort=Zürich"], true, null },
        { "unicode: precomposed vs decomposed differ (ordinal)", ["standort", "Zu\u0308rich"], ["standort=Z\u00fcrich"], false, "is 'Zu\u0308rich'" },
        { "emoji key", ["🔒", "✓"], ["🔒=✓"], true, null },
        { "value containing '='", ["cert", "sha256=ab=="], ["cert=sha256=ab=="], true, null },
        { "value with '=' differs after the first '='", ["cert", "sha256=ab"], ["cert=sha256=ab=="], false, "is 'sha256=ab'" },
        { "spaces in key and value", ["data center", "Frankfurt am Main"], ["data center=Frankfurt am Main"], true, null },
        { "trailing space matters", ["data center", "Frankfurt "], ["data center=Frankfurt"], false, "is 'Frankfurt '" },
        { "empty value required, present empty", ["k", ""], ["k="], true, null },
        { "empty value required, key missing", [], ["k="], false, "missing tag 'k'" },
        { "empty value forbidden, present empty", ["k", ""], ["!k="], false, "forbidden tag 'k=' present" },
        { "required and forbidden together", ["country", "DE", "zone", "dmz"], ["country=DE", "!zone=dmz"], false, "forbidden" },
        { "key starting with '!' only after the marker", ["!x", "1"], ["!!x=1"], false, "forbidden tag '!x=1'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Place_Tags_RequiredEqualForbiddenAbsent(string description, string[] hostTags, string[] requirements, bool pass, string? reason)
    {
        _ = description;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < hostTags.Length; i += 2)
        {
            tags[hostTags[i]] = hostTags[i + 1];
        }

        var host = Fixture.Host("h1") with { Tags = tags };
        var request = Fixture.Request() with { Tags = [.. requirements.Select(TagRequirement.Parse)] };
        Fixture.AssertOutcome(Fixture.PlaceOne(host, request), pass, "AssetTagFilter", reason);
    }
}
