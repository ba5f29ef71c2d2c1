using Microsoft.Extensions.Configuration;

namespace TrustPool.Agent.Tests;

public sealed class AgentOptionsTests
{
    private static (AgentOptions Options, List<string> Errors) Read(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.ToDictionary(v => $"{AgentOptions.Section}:{v.Key}", v => (string?)v.Value))
            .Build();
        var errors = new List<string>();
        return (AgentOptions.FromConfiguration(configuration, errors), errors);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("False", false)]
    public void FromConfiguration_Boolean_Read(string value, bool expected)
    {
        var (options, errors) = Read(("InsecureNoClientAuth", value));
        Assert.Empty(errors);
        Assert.Equal(expected, options.InsecureNoClientAuth);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    public void FromConfiguration_NotABoolean_SameWordsAsTheService(string value)
    {
        // The service says "SyslogTls: 'yes' is not true or false" (ServerOptionsTests): one parser, one message.
        var (options, errors) = Read(("CheckClientRevocation", value));
        Assert.Equal([$"CheckClientRevocation: '{value}' is not true or false"], errors);
        Assert.False(options.CheckClientRevocation);
    }

    [Fact]
    public void FromConfiguration_SeveralBadValues_EveryErrorAtOnce()
    {
        var (_, errors) = Read(("MaxQueuedTpmRequests", "many"), ("AkHandle", "persistent"), ("InsecureNoClientAuth", "on"));
        Assert.Equal(3, errors.Count);
        Assert.Contains("MaxQueuedTpmRequests: 'many' is not an integer", errors);
        Assert.Contains("AkHandle: 'persistent' is not a handle such as 0x81010002", errors);
        Assert.Contains("InsecureNoClientAuth: 'on' is not true or false", errors);
    }

    [Fact]
    public void FromConfiguration_HexHandle_Read()
    {
        var (options, errors) = Read(("AkHandle", "0x81010005"));
        Assert.Empty(errors);
        Assert.Equal(0x81010005u, options.AkHandle);
    }

    [Theory]
    [InlineData(-1, "MaxQueuedTpmRequests: -1 is not 0..100000")]
    [InlineData(100_001, "MaxQueuedTpmRequests: 100001 is not 0..100000")]
    public void Validate_QueueOutOfRange_Reported(int queued, string expected)
    {
        var options = new AgentOptions { Tpm = "software:tpm.state", InsecureNoClientAuth = true, MaxQueuedTpmRequests = queued };
        Assert.Equal([expected], options.Validate());
    }
}
