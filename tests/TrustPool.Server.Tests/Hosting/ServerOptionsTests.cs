using Microsoft.Extensions.Configuration;

namespace TrustPool.Server.Tests.Hosting;

public sealed class ServerOptionsTests
{
    private static (ServerOptions Options, List<string> Errors) Read(string key, string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{ServerOptions.Section}:{key}"] = value })
            .Build();
        var errors = new List<string>();
        return (ServerOptions.FromConfiguration(configuration, errors), errors);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    public void FromConfiguration_SyslogTlsBoolean_Read(string value, bool expected)
    {
        var (options, errors) = Read("SyslogTls", value);
        Assert.Empty(errors);
        Assert.Equal(expected, options.SyslogTls);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    [InlineData("on")]
    public void FromConfiguration_SyslogTlsNotABoolean_ReportedNotSilentlyFalse(string value)
    {
        var (_, errors) = Read("SyslogTls", value);
        Assert.Equal([$"SyslogTls: '{value}' is not true or false"], errors);
    }
}
