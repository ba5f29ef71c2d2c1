using TrustPool.Server.Events;

namespace TrustPool.Server.Tests.Events;

public sealed class TrustEventsTests
{
    [Theory]
    [InlineData("https://user:s3cret@hooks.example:8443/trust?token=s3cret#frag", "https://hooks.example:8443/trust")]
    [InlineData("http://hooks.example/a/b?x=s3cret", "http://hooks.example/a/b")]
    [InlineData("https://hooks.example", "https://hooks.example/")]
    [InlineData("not a url s3cret", "(invalid URL)")]
    public void LoggableUrl_CredentialsInUserInfoOrQuery_NeverInTheLoggedForm(string url, string expected)
    {
        var logged = TrustEvents.LoggableUrl(url);
        Assert.Equal(expected, logged);
        Assert.DoesNotContain("s3cret", logged, StringComparison.Ordinal);
    }
}
