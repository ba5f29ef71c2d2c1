using System.Text.Json;
using TrustPool.Server.Api;
using TrustPool.Server.Compat;

namespace TrustPool.Server.Tests.Compat;

/// <summary>The PollHosts body as Nova's TrustedFilter sent it (Folsom: bare string; later: list) and what is refused.</summary>
public sealed class PollHostsBodyTests
{
    private static List<string> Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return PollHostsEndpoint.ReadHosts(doc.RootElement);
    }

    [Fact]
    public void ReadHosts_FolsomBareString_OneHost() => Assert.Equal(["node1"], Read("""{"count":1,"hosts":"node1"}"""));

    [Fact]
    public void ReadHosts_List_InOrderWithDuplicates() =>
        Assert.Equal(["node2", "node1", "node2"], Read("""{"count":3,"hosts":["node2","node1","node2"]}"""));

    [Fact]
    public void ReadHosts_EmptyList_NoHosts() => Assert.Empty(Read("""{"count":0,"hosts":[]}"""));

    [Theory]
    [InlineData("""{"count":1}""", "is required")]
    [InlineData("""{"count":1,"hosts":null}""", "must be a host name or a list")]
    [InlineData("""{"count":1,"hosts":7}""", "must be a host name or a list")]
    [InlineData("""{"count":1,"hosts":{"name":"node1"}}""", "must be a host name or a list")]
    [InlineData("""{"count":2,"hosts":["node1",2]}""", "every host must be a string")]
    [InlineData("""{"count":1,"hosts":[""]}""", "1..253 characters")]
    [InlineData("""{"count":1,"hosts":""}""", "1..253 characters")]
    public void ReadHosts_BadBody_InvalidInputOnHosts(string json, string why)
    {
        var e = Assert.Throws<ServiceException>(() => Read(json));
        Assert.Equal(ServiceErrorKind.InvalidInput, e.Kind);
        Assert.Equal(400, Problems.StatusOf(e.Kind));
        Assert.Equal("hosts", e.Field);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHosts_NameOf254Characters_Refused253Accepted()
    {
        Assert.Single(Read($$"""{"hosts":"{{new string('a', 253)}}"}"""));
        Assert.Throws<ServiceException>(() => Read($$"""{"hosts":["{{new string('a', 254)}}"]}"""));
    }

    [Fact]
    public void ReadHosts_MoreThanTenThousand_Refused()
    {
        var many = JsonSerializer.Serialize(new { hosts = Enumerable.Range(0, 10_001).Select(i => $"n{i}").ToArray() });
        var e = Assert.Throws<ServiceException>(() => Read(many));
        Assert.Contains("more than 10000 hosts", e.Message, StringComparison.Ordinal);
        var limit = JsonSerializer.Serialize(new { hosts = Enumerable.Range(0, 10_000).Select(i => $"n{i}").ToArray() });
        Assert.Equal(10_000, Read(limit).Count);
    }
}
