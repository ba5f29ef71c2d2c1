using System.Net;
using System.Text.Json.Nodes;
using TrustPool.Agent.Api;
using TrustPool.Agent.Tests.Support;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;

namespace TrustPool.Agent.Tests.Api;

/// <summary>Bad input gets one ProblemDetails envelope naming the field; TPM failures get 503 with the TPM_RC.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private AgentHarness _agent = null!;
    private RecordingTpm _tpm = null!;
    private AgentClient _client = null!;

    public async Task InitializeAsync()
    {
        _tpm = new RecordingTpm(SoftwareTpm.CreateInMemory());
        _agent = await AgentHarness.StartAsync(_tpm);
        _client = _agent.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _agent.DisposeAsync();
    }

    [Theory]
    [InlineData("nonce too short", """{"nonce":"AAECAw==","selection":{"sha256":[0]}}""", "nonce")]
    [InlineData("nonce too long (65 bytes)", """{"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","selection":{"sha256":[0]}}""", "nonce")]
    [InlineData("nonce not base64", """{"nonce":"not base64!!","selection":{"sha256":[0]}}""", "nonce")]
    [InlineData("nonce odd base64 length", """{"nonce":"AAECAwQFBgcI1","selection":{"sha256":[0]}}""", "nonce")]
    [InlineData("nonce a number", """{"nonce":12345678,"selection":{"sha256":[0]}}""", "nonce")]
    [InlineData("nonce missing", """{"selection":{"sha256":[0]}}""", "nonce")]
    [InlineData("unknown bank", """{"nonce":"AAECAwQFBgc=","selection":{"md5":[0]}}""", "selection.md5")]
    [InlineData("bank the TPM lacks", """{"nonce":"AAECAwQFBgc=","selection":{"sha512":[0]}}""", "selection.sha512")]
    [InlineData("PCR 24", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[24]}}""", "selection.sha256")]
    [InlineData("PCR -1", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[-1]}}""", "selection.sha256")]
    [InlineData("PCR as string", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":["0"]}}""", "selection.sha256")]
    [InlineData("PCR fraction", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[1.5]}}""", "selection.sha256")]
    [InlineData("PCR huge", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[1e300]}}""", "selection.sha256")]
    [InlineData("empty PCR list", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[]}}""", "selection.sha256")]
    [InlineData("selection an array", """{"nonce":"AAECAwQFBgc=","selection":[0,1]}""", "selection")]
    [InlineData("empty selection", """{"nonce":"AAECAwQFBgc=","selection":{}}""", "selection")]
    [InlineData("negative imaOffset", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[0]},"imaOffset":-1}""", "imaOffset")]
    [InlineData("imaOffset a string", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[0]},"imaOffset":"3"}""", "imaOffset")]
    [InlineData("not JSON", """{"nonce":""", "body")]
    [InlineData("JSON array", """[1,2,3]""", "body")]
    [InlineData("empty body", "", "body")]
    [InlineData("too deep", """{"a":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}""", "body")]
    public async Task Quote_BadInput_400NamingTheField(string description, string body, string field)
    {
        _ = description;
        var before = _tpm.Quotes;
        using var response = await _client.PostAsync("v1/quote", body);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(field, problem["field"]?.GetValue<string>());
        Assert.Equal(before, _tpm.Quotes);
    }

    [Theory]
    [InlineData("blob missing", """{"encryptedSecret":"AAEC"}""", "credentialBlob")]
    [InlineData("blob not base64", """{"credentialBlob":"***","encryptedSecret":"AAEC"}""", "credentialBlob")]
    [InlineData("secret a bool", """{"credentialBlob":"AAECAwQF","encryptedSecret":true}""", "encryptedSecret")]
    public async Task ActivateCredential_BadInput_400NamingTheField(string description, string body, string field)
    {
        _ = description;
        using var response = await _client.PostAsync("v1/activate-credential", body);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(field, problem["field"]?.GetValue<string>());
    }

    [Fact]
    public async Task ActivateCredential_GarbageBlob_RefusedByTpm_4xxWithResponseCode()
    {
        using var response = await _client.PostAsync("v1/activate-credential", """{"credentialBlob":"ACBBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB","encryptedSecret":"AAECAwQFBgcICQ=="}""");
        Assert.True((int)response.StatusCode is 400 or 503, response.StatusCode.ToString());
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.NotNull(problem["tpmResponseCode"]);
    }

    [Fact]
    public async Task Body_Over64KiB_413()
    {
        var body = "{\"nonce\":\"" + new string('A', 70_000) + "\"}";
        using var response = await _client.PostAsync("v1/quote", body);
        var problem = await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(AgentProblem.BodyTooLarge, problem["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownPath_404Problem()
    {
        using var response = await _client.Http.GetAsync("v2/nothing");
        await ProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TpmFailure_503WithDecodedResponseCodeAndRetryAfter()
    {
        _tpm.FailWith = new TpmException(TpmCommandCode.Quote, new TpmResponseCode(0x921));
        try
        {
            using var response = await _client.PostAsync("v1/quote", """{"nonce":"AAECAwQFBgc=","selection":{"sha256":[0]}}""");
            var problem = await ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(AgentProblem.TpmFailure, problem["type"]!.GetValue<string>());
            Assert.Equal("0x921", problem["tpmResponseCode"]!.GetValue<string>());
            Assert.NotNull(response.Headers.RetryAfter);
        }
        finally
        {
            _tpm.FailWith = null;
        }
    }

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.StartsWith(AgentProblem.TypePrefix, problem["type"]!.GetValue<string>());
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        return problem;
    }
}
