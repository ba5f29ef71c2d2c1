using Microsoft.AspNetCore.Http;
using TrustPool.Agent.Api;

namespace TrustPool.Agent.Tests.Api;

/// <summary>Request bodies found by the afl++ campaign (docs/FUZZING.md): invalid UTF-8 inside JSON strings.</summary>
public sealed class JsonRequestTests
{
    private static HttpContext Context(byte[] body)
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(body);
        http.Request.ContentLength = body.Length;
        return http;
    }

    // Fuzzer crash inputs: 0x81 inside a field name ("credentia\x81Blob") and 0xbb inside a base64 value; 0x8a at the
    // start of a bank name. Before the fix GetString threw InvalidOperationException (a 500 instead of a 400).
    [Theory]
    [InlineData("7b2263726564656e74696181426c6f62223a22417751464267633d222c22656e63727970746564536563726574223a22415149bb227d", 11)]
    [InlineData("7b226e6f6e6365223a224141454341776f4c4441304f44774e3d222c2273656c656374696f6e223a7b228a6861323536223a5b302c312c322c375d7d2c22696d614f6666736574223a337d", 42)]
    public async Task ReadObjectAsync_InvalidUtf8InString_MalformedJsonNamingOffset(string hex, int offset)
    {
        var e = await Assert.ThrowsAsync<AgentProblem>(() => JsonRequest.ReadObjectAsync(Context(Convert.FromHexString(hex))));

        Assert.Equal(400, e.Status);
        Assert.Equal(AgentProblem.MalformedJson, e.Type);
        Assert.Equal("body", e.Field);
        Assert.Contains($"invalid byte at offset {offset}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadObjectAsync_ValidUtf8NonAscii_Parsed()
    {
        using var doc = await JsonRequest.ReadObjectAsync(Context("{\"name\":\"Grüße 🙂\"}"u8.ToArray()));

        Assert.Equal("Grüße 🙂", doc.RootElement.GetProperty("name").GetString());
    }
}
