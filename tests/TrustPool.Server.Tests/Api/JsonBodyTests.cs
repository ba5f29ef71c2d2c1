using System.Text;
using Microsoft.AspNetCore.Http;
using TrustPool.Server.Api;

namespace TrustPool.Server.Tests.Api;

public sealed class JsonBodyTests
{
    private static HttpRequest Request(string body, bool declareLength = true)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(bytes);
        http.Request.ContentLength = declareLength ? bytes.Length : null;
        return http.Request;
    }

    private static Task<JsonBody> ReadAsync(string body, int maxBytes = JsonBody.DefaultMaxBytes, bool declareLength = true) =>
        JsonBody.ReadAsync(Request(body, declareLength), maxBytes);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAsync_LargerThanBound_TooLarge(bool declareLength)
    {
        var body = $$"""{"a":"{{new string('x', 100)}}"}""";
        var e = await Assert.ThrowsAsync<ServiceException>(() => ReadAsync(body, 64, declareLength));
        Assert.Equal(ServiceErrorKind.TooLarge, e.Kind);
        Assert.Equal(ServiceErrors.TooLarge, e.Code);
        Assert.Equal(413, Problems.StatusOf(e.Kind));
    }

    [Fact]
    public async Task ReadAsync_ExactlyTheBound_Read()
    {
        var body = """{"a":"b"}""";
        using var parsed = await ReadAsync(body, Encoding.UTF8.GetByteCount(body), declareLength: false);
        Assert.Equal("b", parsed.RequiredString("a"));
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("null")]
    public async Task ReadAsync_NotAnObject_BadRequestFieldBody(string body)
    {
        var e = await Assert.ThrowsAsync<ServiceException>(() => ReadAsync(body));
        Assert.Equal(ServiceErrorKind.InvalidInput, e.Kind);
        Assert.Equal(ServiceErrors.BadRequest, e.Code);
        Assert.Equal("body", e.Field);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("{'a':1}")]
    public async Task ReadAsync_NotJson_BadJsonFieldBody(string body)
    {
        var e = await Assert.ThrowsAsync<ServiceException>(() => ReadAsync(body));
        Assert.Equal(ServiceErrors.BadJson, e.Code);
        Assert.Equal("body", e.Field);
    }

    // A service-request crash input from the afl++ campaign (docs/FUZZING.md): 0xff inside "agentUrl"'s value. Before
    // the fix the accessor's GetString threw InvalidOperationException (a 500 instead of bad JSON).
    [Fact]
    public async Task ReadAsync_InvalidUtf8InString_BadJsonNamingOffset()
    {
        var bytes = Convert.FromHexString("7b226a7773223a22612e622e63222c2266726f6d486f7374223a226831222c226e476d65223a226e222c226b696e6473223a5b2275656669222c22696d61225d2c2274656d706c617465223a2274222c22726f6c65223a22726561646572222c2275726c223a2268747470733a2f2f782e6578616d706c652f68222c226576656e7473223a5b2274727573742e6368616e676564225d2c2274616773223a5b2261222c2262225d2c22686f7374223a226831222c226167656e7455726c223a22687474ff733a2f2f3132372e302e302e313a39303030222c227663707573223a342c226d656d6f72794d62223a313032342c226469736b4762223a31302c226c6f6164223a302e352c22706572666f726d616e6365223a312e307d");
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(bytes);
        http.Request.ContentLength = bytes.Length;

        var e = await Assert.ThrowsAsync<ServiceException>(() => JsonBody.ReadAsync(http.Request));

        Assert.Equal(ServiceErrors.BadJson, e.Code);
        Assert.Equal("body", e.Field);
        Assert.Contains("invalid byte at offset 195", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ValidUtf8NonAscii_Read()
    {
        using var body = await ReadAsync("{\"name\":\"Grüße 🙂\"}");
        Assert.Equal("Grüße 🙂", body.RequiredString("name"));
    }

    [Fact]
    public async Task OptionalStringMap_ValueNotAString_FieldNamesTheKey()
    {
        using var body = await ReadAsync("""{"tags":{"country":"DE","rack":7}}""");
        var e = Assert.Throws<ServiceException>(() => body.OptionalStringMap("tags"));
        Assert.Equal("tags.rack", e.Field);
        Assert.Equal(ServiceErrorKind.InvalidInput, e.Kind);
    }

    [Fact]
    public async Task OptionalStringMap_ValueTooLong_FieldNamesTheKey()
    {
        using var body = await ReadAsync($$$"""{"tags":{"country":"{{{new string('x', 257)}}}"}}""");
        var e = Assert.Throws<ServiceException>(() => body.OptionalStringMap("tags"));
        Assert.Equal("tags.country", e.Field);
    }

    [Fact]
    public async Task OptionalStringMap_KeyTooLongOrTooManyOrNotAnObject_FieldIsTheMap()
    {
        using var longKey = await ReadAsync($$$"""{"tags":{"{{{new string('k', 257)}}}":"v"}}""");
        Assert.Equal("tags", Assert.Throws<ServiceException>(() => longKey.OptionalStringMap("tags")).Field);
        using var many = await ReadAsync("""{"tags":{"a":"1","b":"2","c":"3"}}""");
        Assert.Contains("more than 2 entries", Assert.Throws<ServiceException>(() => many.OptionalStringMap("tags", maxItems: 2)).Message, StringComparison.Ordinal);
        using var list = await ReadAsync("""{"tags":["a"]}""");
        Assert.Equal("tags", Assert.Throws<ServiceException>(() => list.OptionalStringMap("tags")).Field);
    }

    [Fact]
    public async Task OptionalStringMap_AbsentOrNull_NullPresent_Map()
    {
        using var body = await ReadAsync("""{"n":null,"tags":{"country":"DE"}}""");
        Assert.Null(body.OptionalStringMap("missing"));
        Assert.Null(body.OptionalStringMap("n"));
        Assert.Equal(new Dictionary<string, string> { ["country"] = "DE" }, body.OptionalStringMap("tags"));
    }

    [Fact]
    public async Task RequiredString_MissingEmptyOrWrongType_BadRequestNamingField()
    {
        using var body = await ReadAsync("""{"empty":"","num":1,"long":"abcdef"}""");
        Assert.Equal("name", Assert.Throws<ServiceException>(() => body.RequiredString("name")).Field);
        Assert.Equal("empty", Assert.Throws<ServiceException>(() => body.RequiredString("empty")).Field);
        Assert.Contains("must be a string", Assert.Throws<ServiceException>(() => body.RequiredString("num")).Message, StringComparison.Ordinal);
        Assert.Contains("longer than 5", Assert.Throws<ServiceException>(() => body.OptionalString("long", 5)).Message, StringComparison.Ordinal);
        Assert.Equal("abcdef", body.OptionalString("long", 6));
    }

    [Fact]
    public async Task OptionalStringList_BareStringOrList_ItemsElseFieldError()
    {
        using var body = await ReadAsync("""{"one":"a","many":["a","b"],"bad":["a",1]}""");
        Assert.Equal(["a"], body.OptionalStringList("one"));
        Assert.Equal(["a", "b"], body.OptionalStringList("many"));
        Assert.Equal("bad", Assert.Throws<ServiceException>(() => body.OptionalStringList("bad")).Field);
        Assert.Contains("more than 1 items", Assert.Throws<ServiceException>(() => body.OptionalStringList("many", maxItems: 1)).Message, StringComparison.Ordinal);
    }
}
