using System.Text.Json.Nodes;
using CsCheck;
using TrustPool.Attestation.Baselines;

namespace TrustPool.Attestation.Tests.Baselines;

public class BaselineJsonTests
{
    private const string Sha256Zero = "0000000000000000000000000000000000000000000000000000000000000000";

    internal static Baseline Sample() => new()
    {
        Name = "golden-fw_1.2",
        Kind = BaselineKind.Platform,
        Version = 4,
        Description = "firmware of rack 7",
        FromHost = "host-a",
        Created = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.FromHours(1)),
        Pcrs = [new ExpectedPcr("sha256", 7, "ab" + Sha256Zero[2..]), new ExpectedPcr("sha256", 0, Sha256Zero), new ExpectedPcr("sha1", 0, new string('1', 40))],
        ReferenceUefiLog = [1, 2, 3, 250],
        Facts = new Dictionary<string, string> { ["secureBoot"] = "true", ["firmware"] = "Sim 1.0" },
        ImaAllowlist = new Dictionary<string, IReadOnlyList<string>> { ["/usr/bin/bash"] = [Sha256Zero, "ff" + Sha256Zero[2..]] },
        Tags = new Dictionary<string, string> { ["country"] = "DE" },
    };

    [Fact]
    public void Serialize_ThenParse_RoundTripsEveryField()
    {
        var b = Sample();

        var parsed = BaselineJson.Parse(BaselineJson.Serialize(b));

        Assert.Equal((b.Name, b.Kind, b.Version, b.Description, b.FromHost, b.Created), (parsed.Name, parsed.Kind, parsed.Version, parsed.Description, parsed.FromHost, parsed.Created));
        Assert.Equal(b.Pcrs.OrderBy(p => p.Bank, StringComparer.Ordinal).ThenBy(p => p.Index), parsed.Pcrs);
        Assert.Equal(b.ReferenceUefiLog, parsed.ReferenceUefiLog);
        Assert.Equal(b.Facts.OrderBy(kv => kv.Key), parsed.Facts.OrderBy(kv => kv.Key));
        Assert.Equal(b.ImaAllowlist!["/usr/bin/bash"].Order(StringComparer.Ordinal), parsed.ImaAllowlist!["/usr/bin/bash"]);
        Assert.Equal("DE", parsed.Tags!["country"]);
        Assert.Equal(BaselineJson.Serialize(b), BaselineJson.Serialize(parsed));
    }

    [Fact]
    public void Serialize_KindsAndNames_UseTheJsonSpelling()
    {
        var json = BaselineJson.Serialize(Sample() with { Kind = BaselineKind.HostUnique });

        Assert.Contains("\"kind\":\"host-unique\"", json, StringComparison.Ordinal);
        Assert.Contains("\"referenceUefiLog\":\"AQID+g==\"", json, StringComparison.Ordinal);
        Assert.Equal(BaselineKind.AssetTag, BaselineJson.Parse(json.Replace("host-unique", "asset-tag", StringComparison.Ordinal)).Kind);
    }

    [Fact]
    public void Digest_SameContentInAnotherOrder_SameDigest_ChangedValue_OtherDigest()
    {
        var b = Sample();
        var reordered = b with { Pcrs = [.. b.Pcrs.Reverse()] };
        var changed = b with { Pcrs = [.. b.Pcrs.Skip(1)] };

        Assert.Equal(BaselineJson.Digest(b), BaselineJson.Digest(reordered));
        Assert.NotEqual(BaselineJson.Digest(b), BaselineJson.Digest(changed));
        Assert.Matches("^[0-9a-f]{64}$", BaselineJson.Digest(b));
    }

    [Fact]
    public void Parse_UpperCaseHex_NormalizedToLowerCase()
    {
        var json = """{"name":"b","kind":"os","pcrs":[{"bank":"SHA256","index":8,"value":"ABCDEF0000000000000000000000000000000000000000000000000000000000"}]}""";

        var pcr = Assert.Single(BaselineJson.Parse(json).Pcrs);

        Assert.Equal(new ExpectedPcr("sha256", 8, "abcdef" + Sha256Zero[6..]), pcr);
    }

    [Theory]
    [InlineData("not json", "document")]
    [InlineData("[]", "baseline")]
    [InlineData("""{"kind":"os"}""", "name")]
    [InlineData("""{"name":"has space","kind":"os"}""", "name")]
    [InlineData("""{"name":"a/b","kind":"os"}""", "name")]
    [InlineData("""{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","kind":"os"}""", "name")]
    [InlineData("""{"name":"b","kind":"firmware"}""", "kind")]
    [InlineData("""{"name":"b","kind":"os","version":0}""", "version")]
    [InlineData("""{"name":"b","kind":"os","version":"1"}""", "version")]
    [InlineData("""{"name":"b","kind":"os","created":"yesterday"}""", "created")]
    [InlineData("""{"name":"b","kind":"os","pcrs":{}}""", "pcrs")]
    [InlineData("""{"name":"b","kind":"os","pcrs":[{"bank":"md5","index":0,"value":"00"}]}""", "pcrs[0].bank")]
    [InlineData("""{"name":"b","kind":"os","pcrs":[{"bank":"sha256","index":24,"value":"00"}]}""", "pcrs[0].index")]
    [InlineData("""{"name":"b","kind":"os","pcrs":[{"bank":"sha256","index":-1,"value":"00"}]}""", "pcrs[0].index")]
    [InlineData("""{"name":"b","kind":"os","pcrs":[{"bank":"sha256","value":"00"}]}""", "pcrs[0].index")]
    [InlineData("""{"name":"b","kind":"os","pcrs":[{"bank":"sha256","index":0,"value":"zz"}]}""", "pcrs[0].value")]
    [InlineData("""{"name":"b","kind":"os","pcrs":[{"bank":"sha256","index":0,"value":"0000000000000000000000000000000000000000"}]}""", "pcrs[0].value")]
    [InlineData("""{"name":"b","kind":"os","pcrs":[{"bank":"sha1","index":0,"value":"0000000000000000000000000000000000000000"},{"bank":"sha1","index":0,"value":"0000000000000000000000000000000000000000"}]}""", "pcrs[1]")]
    [InlineData("""{"name":"b","kind":"os","referenceUefiLog":"***"}""", "referenceUefiLog")]
    [InlineData("""{"name":"b","kind":"os","facts":{"k":1}}""", "facts.k")]
    [InlineData("""{"name":"b","kind":"software","imaAllowlist":{"/bin/sh":"00"}}""", "imaAllowlist[/bin/sh]")]
    [InlineData("""{"name":"b","kind":"software","imaAllowlist":{"/bin/sh":["0g"]}}""", "imaAllowlist[/bin/sh]")]
    [InlineData("""{"name":"b","kind":"asset-tag","tags":[]}""", "tags")]
    public void Parse_InvalidDocument_ThrowsNamingTheField(string json, string field)
    {
        var e = Assert.Throws<BaselineFormatException>(() => BaselineJson.Parse(json));

        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Parse_TooManyPcrEntries_ThrowsNamingPcrs()
    {
        var pcrs = string.Join(",", Enumerable.Range(0, BaselineJson.MaxPcrs + 1).Select(_ => $$"""{"bank":"sha256","index":0,"value":"{{Sha256Zero}}"}"""));

        var e = Assert.Throws<BaselineFormatException>(() => BaselineJson.Parse($$"""{"name":"b","kind":"os","pcrs":[{{pcrs}}]}"""));

        Assert.Equal("pcrs", e.Field);
    }

    [Fact]
    public void Parse_OversizeDocument_ThrowsNamingDocument()
    {
        var json = $$"""{"name":"b","kind":"os","description":"{{new string('x', BaselineJson.MaxDocumentChars)}}"}""";

        Assert.Equal("document", Assert.Throws<BaselineFormatException>(() => BaselineJson.Parse(json)).Field);
    }

    private static void OnlyFormatErrors(string json)
    {
        try
        {
            var b = BaselineJson.Parse(json);
            Assert.Equal(BaselineJson.Serialize(b), BaselineJson.Serialize(BaselineJson.Parse(BaselineJson.Serialize(b))));
        }
        catch (BaselineFormatException)
        {
            // the one documented exception
        }
    }

    [Fact]
    public void Parse_RandomStrings_OnlyThrowsBaselineFormatException()
    {
        Gen.String.Sample(OnlyFormatErrors, iter: 2000);
    }

    [Fact]
    public void Parse_MutatedValidDocument_OnlyThrowsBaselineFormatException()
    {
        var valid = BaselineJson.Serialize(Sample());
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Char["{}[]\":,0123456789abcdefxyz-. \\n"], Gen.Int[0, 2])
            .Sample((pos, c, op) => OnlyFormatErrors(op switch
            {
                0 => valid.Remove(pos, 1).Insert(pos, c.ToString()),
                1 => valid.Remove(pos, 1),
                _ => valid.Insert(pos, c.ToString()),
            }), iter: 3000);
    }

    [Fact]
    public void Parse_FieldReplacedByAnyJsonValue_OnlyThrowsBaselineFormatException()
    {
        string[] fields = ["name", "kind", "version", "description", "fromHost", "created", "pcrs", "referenceUefiLog", "facts", "imaAllowlist", "tags"];
        string[] values = ["null", "true", "0", "-1", "1e400", "2147483648", "1.5", "\"\"", "\"zz\"", "[]", "{}", "[1]", "{\"a\":1}", "[null]",
            "[{\"bank\":\"sha256\",\"index\":99,\"value\":\"00\"}]", "[{\"bank\":1,\"index\":\"0\",\"value\":[]}]", "{\"/p\":[1]}", "{\"/p\":[]}", "\"2026-13-01\""];
        Gen.Select(Gen.Int[0, fields.Length - 1], Gen.Int[0, values.Length - 1]).Sample((f, v) =>
        {
            var node = JsonNode.Parse(BaselineJson.Serialize(Sample()))!.AsObject();
            node[fields[f]] = JsonNode.Parse(values[v]);
            OnlyFormatErrors(node.ToJsonString());
        }, iter: 1000);
    }
}
