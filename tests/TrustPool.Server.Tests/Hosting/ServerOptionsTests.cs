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

    [Theory]
    [InlineData("Jitter", "lots", "Jitter: 'lots' is not a number")]
    [InlineData("Concurrency", "8.5", "Concurrency: '8.5' is not an integer")]
    public void FromConfiguration_NotANumber_Reported(string key, string value, string expected)
    {
        var (_, errors) = Read(key, value);
        Assert.Equal([expected], errors);
    }

    [Fact]
    public void Validate_OutOfRange_EveryRangeAtOnce()
    {
        var errors = new ServerOptions { EkTrust = "tofu", Retries = 11, Jitter = 1.5, IntervalSeconds = -1 }.Validate();
        Assert.Equal(["IntervalSeconds: -1 is not 0..86400", "Jitter: 1.5 is not 0..1", "Retries: 11 is not 0..10"], errors);
    }
}
