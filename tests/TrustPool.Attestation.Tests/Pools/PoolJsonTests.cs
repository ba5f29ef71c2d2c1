using CsCheck;
using TrustPool.Attestation.Pools;

namespace TrustPool.Attestation.Tests.Pools;

public class PoolJsonTests
{
    [Fact]
    public void Parse_DocumentedShape_ReadsEveryRequirement()
    {
        var pool = PoolJson.Parse("""{"name":"eu","require":{"platform":["p1","p2"],"os":["o1"],"software":["s1","s2"],"hostUnique":[],"tags":{"country":"DE"}}}""");

        Assert.Equal("eu", pool.Name);
        Assert.Equal(1, pool.Version);
        Assert.Equal(["p1", "p2"], pool.Require.Platform);
        Assert.Equal(["o1"], pool.Require.Os);
        Assert.Equal(["s1", "s2"], pool.Require.Software);
        Assert.Empty(pool.Require.HostUnique);
        Assert.Equal("DE", pool.Require.Tags["country"]);
    }

    [Fact]
    public void Serialize_ThenParse_RoundTrips()
    {
        var pool = new Pool("lab-1", new PoolRequirement { Os = ["o1"], HostUnique = ["h1", "h2"], Tags = new Dictionary<string, string> { ["rack"] = "7" } }) { Version = 5 };

        var json = PoolJson.Serialize(pool);
        var parsed = PoolJson.Parse(json);

        Assert.Equal((pool.Name, pool.Version), (parsed.Name, parsed.Version));
        Assert.Equal(pool.Require.HostUnique, parsed.Require.HostUnique);
        Assert.Equal(pool.Require.Os, parsed.Require.Os);
        Assert.Equal("7", parsed.Require.Tags["rack"]);
        Assert.Equal(json, PoolJson.Serialize(parsed));
    }

    [Theory]
    [InlineData("{", "document")]
    [InlineData("""{"require":{"os":["o"]}}""", "name")]
    [InlineData("""{"name":"e u","require":{"os":["o"]}}""", "name")]
    [InlineData("""{"name":"eu","version":-2,"require":{"os":["o"]}}""", "version")]
    [InlineData("""{"name":"eu"}""", "require")]
    [InlineData("""{"name":"eu","require":[]}""", "require")]
    [InlineData("""{"name":"eu","require":{}}""", "require")]
    [InlineData("""{"name":"eu","require":{"platform":[],"os":[],"tags":{}}}""", "require")]
    [InlineData("""{"name":"eu","require":{"platform":"p1"}}""", "require.platform")]
    [InlineData("""{"name":"eu","require":{"os":["ok","not ok"]}}""", "require.os[1]")]
    [InlineData("""{"name":"eu","require":{"software":[1]}}""", "require.software[0]")]
    [InlineData("""{"name":"eu","require":{"hostUnique":[null]}}""", "require.hostUnique[0]")]
    [InlineData("""{"name":"eu","require":{"tags":{"country":5}}}""", "require.tags.country")]
    [InlineData("""{"name":"eu","require":{"tags":{"country":"DE"}}}""", "require")]
    [InlineData("""{"name":"eu","require":{"software":["s1"],"tags":{"country":"DE"}}}""", "require")]
    [InlineData("""{"name":"eu","require":{"platform":[],"os":[],"hostUnique":[],"software":["s1"]}}""", "require")]
    public void Parse_InvalidDocument_ThrowsNamingTheField(string json, string field)
    {
        var e = Assert.Throws<PoolFormatException>(() => PoolJson.Parse(json));

        Assert.Equal(field, e.Field);
    }
}

public class PoolJsonMeasurementTests
{
    [Theory]
    [InlineData("""{"name":"eu","require":{"platform":["p"]}}""")]
    [InlineData("""{"name":"eu","require":{"os":["txt-os"],"tags":{"country":"DE"}}}""")]
    [InlineData("""{"name":"eu","require":{"hostUnique":["h"],"software":["s"]}}""")]
    public void Parse_PoolWithPlatformOsOrHostUniqueRule_Accepted(string json) =>
        Assert.True(PoolJson.Parse(json).Require.RequiresMeasurement);

    [Fact]
    public void ParseStored_TagsOnlyPoolStoredBeforeTheRule_LoadsWithoutMeasurement()
    {
        const string stored = """{"name":"de","version":1,"require":{"platform":[],"os":[],"software":[],"hostUnique":[],"tags":{"country":"DE"}}}""";

        var e = Assert.Throws<PoolFormatException>(() => PoolJson.Parse(stored));
        var pool = PoolJson.ParseStored(stored);

        Assert.Equal("require", e.Field);
        Assert.Contains("platform, os or hostUnique", e.Message, StringComparison.Ordinal);
        Assert.False(pool.Require.RequiresMeasurement);
        Assert.Throws<PoolFormatException>(() => PoolJson.ParseStored("""{"name":"de","require":{}}"""));
    }
}

public class PoolJsonPropertyTests
{
    [Fact]
    public void Parse_MutatedValidDocument_OnlyThrowsPoolFormatException()
    {
        var valid = PoolJson.Serialize(new Pool("eu", new PoolRequirement { Platform = ["p1", "p2"], Software = ["s"], Tags = new Dictionary<string, string> { ["country"] = "DE" } }));
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Char["{}[]\":,0123456789abcxyz-. "], Gen.Int[0, 2])
            .Sample((pos, c, op) =>
            {
                var mutated = op switch
                {
                    0 => valid.Remove(pos, 1).Insert(pos, c.ToString()),
                    1 => valid.Remove(pos, 1),
                    _ => valid.Insert(pos, c.ToString()),
                };
                try
                {
                    var p = PoolJson.Parse(mutated);
                    Assert.False(p.Require.IsEmpty);
                    Assert.True(p.Require.RequiresMeasurement);
                }
                catch (PoolFormatException)
                {
                    // the one documented exception
                }
            }, iter: 3000);
    }
}
