using TrustPool.Server.Events;

namespace TrustPool.Server.Tests.Events;

public sealed class TrustEventsTests
{
    [Theory]
    [InlineData("https://user:s3cret@hooks.example:8443/trust?token=s3cret#frag", "https://hooks.example:8443")]
    [InlineData("https://hooks.example/services/T000/B000/s3cret", "https://hooks.example")]
    [InlineData("http://hooks.example:80/a?x=s3cret", "http://hooks.example")]
    public void Origin_CredentialsInUserInfoPathOrQuery_NeverInIt(string url, string expected)
    {
        var origin = TrustEvents.Origin(url);
        Assert.Equal(expected, origin);
        Assert.DoesNotContain("s3cret", origin!, StringComparison.Ordinal);
    }

    [Fact]
    public void Origin_NotAnAbsoluteUrl_Null() => Assert.Null(TrustEvents.Origin("not a url s3cret"));
}
