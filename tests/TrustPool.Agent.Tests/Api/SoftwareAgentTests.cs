using System.Net;
using System.Security.Authentication;
using TrustPool.Agent.Tests.Support;
using TrustPool.Tpm.Software;

using TrustPool.Testing;

namespace TrustPool.Agent.Tests.Api;

/// <summary>The Agent API end to end over real mutual TLS, against the software TPM in-process.</summary>
public sealed class SoftwareAgentTests
{
    [Fact]
    public async Task Identity_ActivateCredential_Quote_VerifyOverMutualTls()
    {
        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory());
        using var client = agent.Client();
        var identity = await AgentChecks.EnrollAsync(client);
        Assert.Equal(agent.Host.TlsFingerprint, identity["tlsFingerprint"]!.GetValue<string>());
        Assert.Contains("sha256", identity["banks"]!.AsArray().Select(b => b!.GetValue<string>()));
        await AgentChecks.QuoteAndVerifyAsync(client, identity);
        await AgentChecks.QuoteAndVerifyAsync(client, identity, "sha1", [.. Enumerable.Range(0, 24)]);
        var health = await client.GetJsonAsync("v1/health");
        Assert.Equal("ok", health["status"]!.GetValue<string>());
    }

    /// <summary>
    /// Regression: request JSON once referred to Kestrel's pooled pipe buffers after they were released, so requests
    /// arriving on other keep-alive connections could overwrite a body while it was being read.
    /// </summary>
    [Fact]
    public async Task ManyQuotesOnKeepAliveConnections_EachVerifies()
    {
        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory());
        using var client = agent.Client(maxConnections: 8);
        var identity = await client.GetJsonAsync("v1/identity");
        var tasks = Enumerable.Range(0, 800).Select(i => AgentChecks.QuoteAndVerifyAsync(client, identity, i % 2 == 0 ? "sha256" : "sha1",
            [.. Enumerable.Range(0, 1 + (i % 24))]));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task RsaAk_QuoteVerifies()
    {
        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory(), new AgentOptions { AkAlgorithm = "rsa" });
        using var client = agent.Client();
        var identity = await AgentChecks.EnrollAsync(client);
        await AgentChecks.QuoteAndVerifyAsync(client, identity);
    }

    [Fact]
    public async Task EccEk_ActivateCredential_RecoversSecret_AndQuoteVerifies()
    {
        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory(), new AgentOptions { EkAlgorithm = "ecc" });
        using var client = agent.Client();
        var identity = await AgentChecks.EnrollAsync(client);
        var ek = TrustPool.Tpm.Structures.TpmtPublic.ParseTpm2b(AgentClient.Bytes(identity, "ekPublic"));
        Assert.Equal(TrustPool.Tpm.TpmAlgorithmId.Ecc, ek.Type);

        // The EK is the TCG L-2 template (P-256, AES-128 CFB storage key with the endorsement policy).
        var template = TrustPool.Tpm.Client.TpmTemplates.Ek(TrustPool.Tpm.Client.TpmKeyAlgorithm.EccP256, eccX: ek.Ecc!.X, eccY: ek.Ecc.Y);
        Assert.Equal(template.Bytes, ek.Bytes);
        await AgentChecks.QuoteAndVerifyAsync(client, identity);
    }

    [Fact]
    public void EkAlgorithm_Unknown_ReportedByValidate()
    {
        var errors = new AgentOptions { Tpm = "software:/tmp/x", InsecureNoClientAuth = true, EkAlgorithm = "dsa" }.Validate();
        Assert.Contains(errors, e => e.StartsWith("EkAlgorithm:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoAgentsOneListener_DistinctPathBases_DistinctTpms()
    {
        await using var agents = await AgentHarness.StartAsync([("/agents/1", SoftwareTpm.CreateInMemory()), ("/agents/2", SoftwareTpm.CreateInMemory())]);
        using var c1 = agents.Client("/agents/1/");
        using var c2 = agents.Client("/agents/2");
        var id1 = await AgentChecks.EnrollAsync(c1);
        var id2 = await AgentChecks.EnrollAsync(c2);
        Assert.NotEqual(id1["akName"]!.GetValue<string>(), id2["akName"]!.GetValue<string>());
        await AgentChecks.QuoteAndVerifyAsync(c1, id1);
        await AgentChecks.QuoteAndVerifyAsync(c2, id2);

        // The other agent's AK does not verify this agent's quote.
        await Assert.ThrowsAnyAsync<Exception>(() => AgentChecks.QuoteAndVerifyAsync(c1, id2));

        using var root = agents.Client();
        using var none = await root.Http.GetAsync("v1/identity");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ClientWithoutCertificate_RefusedInTlsHandshake()
    {
        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory());
        using var client = new AgentClient(agent.BaseAddress, clientCertificate: null, agent.Host.TlsFingerprint);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.Http.GetAsync("v1/identity"));
        AssertTlsRefusal(e);
    }

    [Fact]
    public async Task ClientFromAnotherCa_RefusedInTlsHandshake()
    {
        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory());
        using var other = TestPki.Create("Some Other CA");
        using var client = new AgentClient(agent.BaseAddress, other.Client, agent.Host.TlsFingerprint);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.Http.GetAsync("v1/identity"));
        AssertTlsRefusal(e);
    }

    /// <summary>TLS 1.3 sends the client's certificate after the server finished: the refusal may surface as a reset on first read.</summary>
    private static void AssertTlsRefusal(Exception e)
    {
        Assert.True(e is HttpRequestException or AuthenticationException or IOException, e.ToString());
        Assert.IsNotType<TaskCanceledException>(e);
    }

    [Fact]
    public async Task Restart_KeepsAkNameAndTlsFingerprint()
    {
        var dir = TestTemp.CreateDirectory("trustpool-agent-restart-").FullName;
        var state = Path.Combine(dir, "tpm.state");
        var data = Path.Combine(dir, "data");
        using var pki = TestPki.Create();
        string akName, fingerprint;
        await using (var first = await AgentHarness.StartAsync([("", SoftwareTpm.Open(state))], dataDirectory: data, pki: pki))
        {
            using var client = first.Client();
            var id = await client.GetJsonAsync("v1/identity");
            akName = id["akName"]!.GetValue<string>();
            fingerprint = id["tlsFingerprint"]!.GetValue<string>();
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, AgentDefaults.TlsKeyFile)));
        }

        await using var second = await AgentHarness.StartAsync([("", SoftwareTpm.Open(state))], dataDirectory: data, pki: pki);
        using var c2 = second.Client();
        var id2 = await AgentChecks.EnrollAsync(c2);
        Assert.Equal(akName, id2["akName"]!.GetValue<string>());
        Assert.Equal(fingerprint, id2["tlsFingerprint"]!.GetValue<string>());
        await AgentChecks.QuoteAndVerifyAsync(c2, id2);
    }
}
