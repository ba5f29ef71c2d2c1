using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using TrustPool.Server.Agents;
using TrustPool.Server.Pki;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.Agents;

/// <summary>AgentClient against real agents (AgentHost + software TPM) over real mutual TLS on 127.0.0.1, and against fake servers.</summary>
public sealed class AgentClientTests
{
    private static readonly PcrSelection s_selection = PcrSelection.Single(TpmAlgorithmId.Sha256, [0, 1, 2, 3, 7]);

    [Fact]
    public async Task GetIdentityAsync_Pinned_ReturnsIdentity()
    {
        await using var bed = await AgentTestBed.StartAsync(["/agents/a/"]);
        using var client = new AgentClient(bed.ClientCertificate);
        var (id, presented) = await client.GetIdentityAsync(bed.Url("/agents/a/"), bed.Fingerprint.ToUpperInvariant());

        Assert.Equal(bed.Fingerprint, presented);
        Assert.Equal(bed.Fingerprint, id.TlsFingerprint);
        Assert.Equal("host-agents-a-", id.Hostname);
        Assert.Contains("sha256", id.Banks);
        Assert.NotEmpty(id.EkPublic);
        var ak = TpmtPublic.ParseTpm2b(id.AkPublic);
        Assert.Equal(ak.Name, id.AkName);
        Assert.False(string.IsNullOrEmpty(id.Manufacturer));
    }

    [Fact]
    public async Task GetIdentityAsync_FirstContactWithoutPin_ReturnsPresentedFingerprint()
    {
        await using var bed = await AgentTestBed.StartAsync(["/agents/a/"]);
        using var client = new AgentClient(bed.ClientCertificate);

        // No trailing slash: the path base is normalised.
        var (id, presented) = await client.GetIdentityAsync(bed.Url("/agents/a"), pinnedFingerprint: null);
        Assert.Equal(bed.Fingerprint, presented);
        Assert.Equal(bed.Fingerprint, id.TlsFingerprint);
        Assert.Equal(0, client.HandlerCount);
    }

    [Fact]
    public async Task ActivateCredentialAsync_MakeCredentialChallenge_ReturnsTheSecret()
    {
        await using var bed = await AgentTestBed.StartAsync(["/agents/a/"]);
        using var client = new AgentClient(bed.ClientCertificate);
        var url = bed.Url("/agents/a/");
        var (id, pin) = await client.GetIdentityAsync(url, null);
        var ek = TpmtPublic.ParseTpm2b(id.EkPublic);
        var ak = TpmtPublic.ParseTpm2b(id.AkPublic);
        Assert.Equal(TpmTemplates.AkAttributes, ak.ObjectAttributes & TpmTemplates.AkAttributes);

        var secret = RandomNumberGenerator.GetBytes(32);
        var challenge = CredentialProtection.MakeCredential(ek, ak.Name, secret);
        var answer = await client.ActivateCredentialAsync(url, pin, challenge.CredentialBlob, challenge.EncryptedSecret);
        Assert.Equal(secret, answer);

        // A credential bound to another name is refused by the TPM: an HTTP error with the agent's problem type.
        var wrong = CredentialProtection.MakeCredential(ek, id.EkPublic.AsSpan(0, 34), secret);
        var e = await Assert.ThrowsAsync<AgentException>(() => client.ActivateCredentialAsync(url, pin, wrong.CredentialBlob, wrong.EncryptedSecret));
        Assert.Equal(AgentFailure.HttpError, e.Failure);
        Assert.Equal(400, e.StatusCode);
        Assert.StartsWith("urn:trustpool:agent:", e.ProblemType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuoteAsync_WithNonce_VerifiesWithQuoteVerifier()
    {
        await using var bed = await AgentTestBed.StartAsync(["/agents/a/"]);
        using var client = new AgentClient(bed.ClientCertificate);
        var url = bed.Url("/agents/a/");
        var (id, pin) = await client.GetIdentityAsync(url, null);
        using var ak = AttestationKey.FromPublic(TpmtPublic.ParseTpm2b(id.AkPublic));

        var nonce = RandomNumberGenerator.GetBytes(32);
        var q = await client.QuoteAsync(url, pin, nonce, s_selection, imaOffset: 0);
        var verification = QuoteVerifier.Verify(ak, q.Quote, q.Signature, q.Pcrs, nonce, s_selection);
        Assert.True(verification.IsValid, verification.ToString());
        Assert.Equal(5, q.Pcrs.Count);
        Assert.Null(q.UefiLog);

        // Another nonce does not verify against this quote.
        Assert.False(QuoteVerifier.Verify(ak, q.Quote, q.Signature, q.Pcrs, RandomNumberGenerator.GetBytes(32), s_selection).IsValid);
        Assert.True(await client.HealthAsync(url, pin));
    }

    [Fact]
    public async Task QuoteAsync_WrongPin_ThrowsTlsPinMismatch()
    {
        await using var bed = await AgentTestBed.StartAsync(["/agents/a/"]);
        using var client = new AgentClient(bed.ClientCertificate);
        var wrongPin = Convert.ToHexStringLower(SHA256.HashData("another certificate"u8));
        var e = await Assert.ThrowsAsync<AgentException>(() => client.QuoteAsync(bed.Url("/agents/a/"), wrongPin, new byte[32], s_selection, null));
        Assert.Equal(AgentFailure.TlsPinMismatch, e.Failure);
        Assert.Contains(bed.Fingerprint, e.Message, StringComparison.Ordinal);
        var h = await Assert.ThrowsAsync<AgentException>(() => client.GetIdentityAsync(bed.Url("/agents/a/"), wrongPin));
        Assert.Equal(AgentFailure.TlsPinMismatch, h.Failure);
    }

    [Fact]
    public async Task GetIdentityAsync_AgentTrustsAnotherServiceCa_ThrowsTlsRejected()
    {
        using var other = ServiceCa.LoadOrCreate(Path.Combine(TestTemp.CreateDirectory("trustpool-otherca-").FullName, "ca"), out _);
        await using var bed = await AgentTestBed.StartAsync(["/agents/a/"], agentTrusts: other.CertificatePath);
        using var client = new AgentClient(bed.ClientCertificate);
        var e = await Assert.ThrowsAsync<AgentException>(() => client.GetIdentityAsync(bed.Url("/agents/a/"), bed.Fingerprint));
        Assert.True(e.Failure == AgentFailure.TlsRejected, e.ToString());
        var q = await Assert.ThrowsAsync<AgentException>(() => client.QuoteAsync(bed.Url("/agents/a/"), bed.Fingerprint, new byte[32], s_selection, null));
        Assert.True(q.Failure == AgentFailure.TlsRejected, q.ToString());
    }

    [Fact]
    public async Task GetIdentityAsync_ClosedPort_ThrowsUnreachable()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        using var ca = ServiceCa.LoadOrCreate(Path.Combine(TestTemp.CreateDirectory("trustpool-ca-").FullName, "ca"), out _);
        using var cert = ca.LoadOrIssueClientCertificate(Path.GetDirectoryName(ca.CertificatePath)!);
        using var client = new AgentClient(cert);
        var url = new Uri($"https://127.0.0.1:{port}/agents/x/");
        var e = await Assert.ThrowsAsync<AgentException>(() => client.GetIdentityAsync(url, new string('a', 64)));
        Assert.True(e.Failure == AgentFailure.Unreachable, e.ToString());
        var f = await Assert.ThrowsAsync<AgentException>(() => client.GetIdentityAsync(url, null));
        Assert.True(f.Failure == AgentFailure.Unreachable, f.ToString());
    }

    [Fact]
    public async Task QuoteAsync_AgentTooSlow_ThrowsTimeout()
    {
        await using var server = await FakeAgentServer.StartAsync(async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
        });
        using var client = await NewClientAsync(new AgentClientOptions { Timeout = TimeSpan.FromMilliseconds(300) });
        var e = await Assert.ThrowsAsync<AgentException>(() => client.QuoteAsync(server.Url, server.Fingerprint, new byte[32], s_selection, null));
        Assert.Equal(AgentFailure.Timeout, e.Failure);

        // The caller's own cancellation is not a timeout.
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.QuoteAsync(server.Url, server.Fingerprint, new byte[32], s_selection, null, cts.Token));
    }

    private const string Sha256Zero = "0000000000000000000000000000000000000000000000000000000000000000";

    private static string QuoteJson(string pcrs, string quote = "\"AAEC\"", string extra = "") =>
        $$"""{"quote":{{quote}},"signature":"AAEC","pcrs":{{pcrs}}{{extra}}}""";

    private static string FullPcrs(string bank = "sha256", string index0 = "0", string value0 = Sha256Zero) =>
        $$$"""{"{{{bank}}}":{"{{{index0}}}":"{{{value0}}}","1":"{{{Sha256Zero}}}","2":"{{{Sha256Zero}}}","3":"{{{Sha256Zero}}}","7":"{{{Sha256Zero}}}"}}""";

    public static TheoryData<string, string, string> BadQuoteAnswers => new()
    {
        { "not JSON", "<html>hello</html>", "body" },
        { "JSON array", "[1,2,3]", "body" },
        { "truncated JSON", "{\"quote\":\"AAEC\"", "body" },
        { "quote not base64", QuoteJson(FullPcrs(), quote: "\"%%%\""), "quote" },
        { "quote a number", QuoteJson(FullPcrs(), quote: "42"), "quote" },
        { "signature missing", $$"""{"quote":"AAEC","pcrs":{{FullPcrs()}}}""", "signature" },
        { "pcrs missing", """{"quote":"AAEC","signature":"AAEC"}""", "pcrs" },
        { "pcrs an array", QuoteJson("[]"), "pcrs" },
        { "unknown bank", QuoteJson(FullPcrs(bank: "md5")), "pcrs.md5" },
        { "index 24", QuoteJson(FullPcrs(index0: "24")), "pcrs.sha256.24" },
        { "index negative", QuoteJson(FullPcrs(index0: "-1")), "pcrs.sha256.-1" },
        { "index with leading zero", QuoteJson(FullPcrs(index0: "00")), "pcrs.sha256.00" },
        { "digest of sha1 size", QuoteJson(FullPcrs(value0: new string('0', 40))), "pcrs.sha256.0" },
        { "digest not hex", QuoteJson(FullPcrs(value0: new string('z', 64))), "pcrs.sha256.0" },
        { "selected PCR missing", QuoteJson($$$"""{"sha256":{"0":"{{{Sha256Zero}}}"}}"""), "pcrs.sha256.1" },
        { "imaNextOffset negative", QuoteJson(FullPcrs(), extra: ",\"imaNextOffset\":-5"), "imaNextOffset" },
        { "uefiLog not base64", QuoteJson(FullPcrs(), extra: ",\"uefiLog\":\"!!\""), "uefiLog" },
    };

    [Theory]
    [MemberData(nameof(BadQuoteAnswers))]
    public async Task QuoteAsync_MalformedAnswer_ThrowsProtocolNamingTheField(string description, string body, string field)
    {
        await using var server = await FakeAgentServer.StartAsync(200, body);
        using var client = await NewClientAsync();
        var e = await Assert.ThrowsAsync<AgentException>(() => client.QuoteAsync(server.Url, server.Fingerprint, new byte[32], s_selection, null));
        Assert.True(e.Failure == AgentFailure.Protocol, $"{description}: {e}");
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public async Task QuoteAsync_WellFormedFakeAnswer_ParsesEveryField()
    {
        var body = QuoteJson(FullPcrs(), extra: ",\"uefiLog\":\"AQID\",\"imaLog\":\"BAU=\",\"imaNextOffset\":12");
        await using var server = await FakeAgentServer.StartAsync(200, body);
        using var client = await NewClientAsync();
        var q = await client.QuoteAsync(new Uri(server.Url, "/some/base"), server.Fingerprint, new byte[32], s_selection, 3);
        Assert.Equal([0, 1, 2], q.Quote);
        Assert.Equal(5, q.Pcrs.Count);
        Assert.Equal([1, 2, 3], q.UefiLog);
        Assert.Equal([4, 5], q.ImaLog);
        Assert.Equal(12, q.ImaNextOffset);
    }

    public static TheoryData<string, string, string> BadIdentityAnswers => new()
    {
        { "akName missing", Identity(akName: null), "akName" },
        { "ekPublic not base64", Identity(ekPublic: "\"@@@@\""), "ekPublic" },
        { "tlsFingerprint short", Identity(fingerprint: "\"abcd\""), "tlsFingerprint" },
        { "banks holds a number", Identity(banks: "[1]"), "banks" },
        { "tpm a string", Identity(tpm: "\"x\""), "tpm" },
    };

    private static string Identity(string? akName = "\"AAsA\"", string ekPublic = "\"AAEC\"", string fingerprint = "\"" + Sha256Zero + "\"",
        string banks = "[\"sha256\"]", string tpm = "{\"manufacturer\":\"IBM\"}")
    {
        var ak = akName is null ? "" : $",\"akName\":{akName}";
        return $$"""{"ekPublic":{{ekPublic}},"akPublic":"AAEC"{{ak}},"tlsFingerprint":{{fingerprint}},"hostname":"h","tpm":{{tpm}},"banks":{{banks}}}""";
    }

    [Theory]
    [MemberData(nameof(BadIdentityAnswers))]
    public async Task GetIdentityAsync_MalformedAnswer_ThrowsProtocolNamingTheField(string description, string body, string field)
    {
        await using var server = await FakeAgentServer.StartAsync(200, body);
        using var client = await NewClientAsync();
        var e = await Assert.ThrowsAsync<AgentException>(() => client.GetIdentityAsync(server.Url, server.Fingerprint));
        Assert.True(e.Failure == AgentFailure.Protocol, $"{description}: {e}");
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public async Task GetIdentityAsync_FirstContactIdentityClaimsAnotherCertificate_ThrowsTlsPinMismatch()
    {
        await using var server = await FakeAgentServer.StartAsync(200, Identity());
        using var client = await NewClientAsync();
        var e = await Assert.ThrowsAsync<AgentException>(() => client.GetIdentityAsync(server.Url, null));
        Assert.Equal(AgentFailure.TlsPinMismatch, e.Failure);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task QuoteAsync_AnswerLargerThanLimit_ThrowsProtocolBody(bool declaredLength)
    {
        var big = new string('a', 64 * 1024);
        await using var server = await FakeAgentServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            var bytes = System.Text.Encoding.UTF8.GetBytes($"{{\"quote\":\"{big}\"}}");
            if (declaredLength)
            {
                context.Response.ContentLength = bytes.Length;
            }

            // Without a declared length the body arrives chunked in pieces: the limit applies while reading.
            for (var i = 0; i < bytes.Length; i += 4096)
            {
                await context.Response.Body.WriteAsync(bytes.AsMemory(i, Math.Min(4096, bytes.Length - i)));
                await context.Response.Body.FlushAsync();
            }
        });
        using var client = await NewClientAsync(new AgentClientOptions { MaxResponseBytes = 16 * 1024 });
        var e = await Assert.ThrowsAsync<AgentException>(() => client.QuoteAsync(server.Url, server.Fingerprint, new byte[32], s_selection, null));
        Assert.Equal(AgentFailure.Protocol, e.Failure);
        Assert.Equal("body", e.Field);
    }

    [Fact]
    public async Task QuoteAsync_ConnectionCutMidAnswer_ThrowsUnreachable()
    {
        await using var server = await FakeAgentServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = 1000;
            await context.Response.Body.WriteAsync("{\"quote\":\""u8.ToArray());
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        using var client = await NewClientAsync();
        var e = await Assert.ThrowsAsync<AgentException>(() => client.QuoteAsync(server.Url, server.Fingerprint, new byte[32], s_selection, null));
        Assert.True(e.Failure == AgentFailure.Unreachable, e.ToString());
    }

    [Fact]
    public async Task QuoteAsync_ProblemAnswer_ThrowsHttpErrorWithTypeAndField()
    {
        await using var server = await FakeAgentServer.StartAsync(503,
            """{"type":"urn:trustpool:agent:tpm-busy","title":"TPM busy","status":503,"field":"nonce"}""", "application/problem+json");
        using var client = await NewClientAsync();
        var e = await Assert.ThrowsAsync<AgentException>(() => client.QuoteAsync(server.Url, server.Fingerprint, new byte[32], s_selection, null));
        Assert.Equal(AgentFailure.HttpError, e.Failure);
        Assert.Equal(503, e.StatusCode);
        Assert.Equal("urn:trustpool:agent:tpm-busy", e.ProblemType);
        Assert.Equal("nonce", e.Field);
        Assert.False(await client.HealthAsync(server.Url, server.Fingerprint));
    }

    [Fact]
    public async Task QuoteAsync_ManyPathBasesOnOneListener_ShareOneHandlerAndFewConnections()
    {
        var bases = Enumerable.Range(0, 10).Select(i => $"/agents/{i}/").ToList();
        await using var bed = await AgentTestBed.StartAsync(bases);
        using var client = new AgentClient(bed.ClientCertificate, new AgentClientOptions { MaxConnectionsPerServer = 4 });
        var keys = new Dictionary<string, AttestationKey>();
        foreach (var b in bases)
        {
            var (id, _) = await client.GetIdentityAsync(bed.Url(b), bed.Fingerprint);
            keys[b] = AttestationKey.FromPublic(TpmtPublic.ParseTpm2b(id.AkPublic));
        }

        // 50 quotes, 5 at a time, over the 10 path bases.
        for (var round = 0; round < 10; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 5).Select(async i =>
            {
                var b = bases[(round * 5 + i) % bases.Count];
                var nonce = RandomNumberGenerator.GetBytes(16);
                var q = await client.QuoteAsync(bed.Url(b), bed.Fingerprint, nonce, s_selection, null);
                Assert.True(QuoteVerifier.Verify(keys[b], q.Quote, q.Signature, q.Pcrs, nonce, s_selection).IsValid);
            }));
        }

        Assert.Equal(1, client.HandlerCount);
        Assert.InRange(client.ConnectionsOpened, 1, 4);
        foreach (var k in keys.Values)
        {
            k.Dispose();
        }
    }

    [Theory]
    [InlineData("https://h:9443", "https://h:9443/v1/quote")]
    [InlineData("https://h:9443/", "https://h:9443/v1/quote")]
    [InlineData("https://h:9443/agents/42", "https://h:9443/agents/42/v1/quote")]
    [InlineData("https://h:9443/agents/42/", "https://h:9443/agents/42/v1/quote")]
    [InlineData("https://h:9443/agents/42/?x=1", "https://h:9443/agents/42/v1/quote")]
    public void Resolve_PathBase_RelativeToTrailingSlash(string agent, string expected) =>
        Assert.Equal(expected, AgentClient.Resolve(new Uri(agent), "v1/quote").ToString());

    [Fact]
    public async Task Calls_HttpUrlOrBadPin_ThrowArgumentException()
    {
        using var client = await NewClientAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetIdentityAsync(new Uri("http://127.0.0.1:1/"), null));
        await Assert.ThrowsAsync<ArgumentException>(() => client.HealthAsync(new Uri("https://127.0.0.1:1/"), "not-a-fingerprint"));
    }

    private static Task<AgentClient> NewClientAsync(AgentClientOptions? options = null)
    {
        var dir = Path.Combine(TestTemp.CreateDirectory("trustpool-ca-").FullName, "ca");
        using var ca = ServiceCa.LoadOrCreate(dir, out _);
        return Task.FromResult(new AgentClient(ca.LoadOrIssueClientCertificate(dir), options));
    }
}
