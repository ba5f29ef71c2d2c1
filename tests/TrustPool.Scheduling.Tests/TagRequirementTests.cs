namespace TrustPool.Scheduling.Tests;

public class TagRequirementTests
{
    [Theory]
    [InlineData("country=DE", "country", "DE", false)]
    [InlineData("!zone=dmz", "zone", "dmz", true)]
    [InlineData("k=", "k", "", false)]
    [InlineData("!k=", "k", "", true)]
    [InlineData("cert=a=b==", "cert", "a=b==", false)]
    [InlineData("data center=Frankfurt am Main", "data center", "Frankfurt am Main", false)]
    [InlineData("standort=Zürich", "standort", "Zürich", false)]
    [InlineData("!!x=1", "!x", "1", true)]
    [InlineData(" k = v ", " k ", " v ", false)]
    public void Parse_Valid_SplitsAtFirstEquals(string text, string key, string value, bool forbidden)
    {
        var t = TagRequirement.Parse(text);
        Assert.Equal(new TagRequirement(key, value, forbidden), t);
        Assert.Equal(text, t.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("country")]
    [InlineData("=DE")]
    [InlineData("!")]
    [InlineData("!=x")]
    public void Parse_Invalid_FormatExceptionNamesInput(string text)
    {
        var e = Assert.Throws<FormatException>(() => TagRequirement.Parse(text));
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("required", TrustRequirement.Required)]
    [InlineData("Preferred", TrustRequirement.Preferred)]
    [InlineData("ANY", TrustRequirement.Any)]
    public void TrustRequirementText_Parse_RoundTrips(string text, TrustRequirement expected)
    {
        Assert.Equal(expected, TrustRequirementText.Parse(text));
        Assert.Equal(text.ToLowerInvariant(), TrustRequirementText.Format(expected));
    }

    [Fact]
    public void TrustRequirementText_ParseUnknown_FormatException() =>
        Assert.Contains("'maybe'", Assert.Throws<FormatException>(() => TrustRequirementText.Parse("maybe")).Message, StringComparison.Ordinal);
}
