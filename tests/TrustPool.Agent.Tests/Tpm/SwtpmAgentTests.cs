using System.Net;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Agent.Tests.Support;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Agent.Tests.Tpm;

/// <summary>swtpm tests take turns (STYLE.md, RK lock_tests).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SwtpmCollection
{
    public const string Name = "swtpm";
}

/// <summary>One manufactured swtpm (EK certificate, sha1 + sha256) per test class, started on first use.</summary>
public sealed class SwtpmAgentFixture : IDisposable
{
    private SwtpmInstance? _instance;

    public SwtpmInstance Swtpm => _instance ??= SwtpmInstance.Start();

    public void Dispose() => _instance?.Dispose();
}

/// <summary>The agent against a real swtpm over its TCP transport, over real mutual TLS.</summary>
[Collection(SwtpmCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SwtpmAgentTests(SwtpmAgentFixture fixture) : IClassFixture<SwtpmAgentFixture>
{
    [SkippableFact]
    public async Task Identity_ActivateCredential_Quote_Verify()
    {
        var swtpm = fixture.Swtpm;
        await using var agent = await AgentHarness.StartAsync(TpmConnection.Open(swtpm.Backend));
        using var client = agent.Client();
        var identity = await AgentChecks.EnrollAsync(client);

        // swtpm_setup --create-ek-cert: the RSA EK certificate in NV 0x01C00002 certifies the EK the agent reports.
        Assert.NotNull(identity["ekCertificate"]);
        using var ekCert = X509CertificateLoader.LoadCertificate(AgentClient.Bytes(identity, "ekCertificate"));
        using var certKey = ekCert.GetRSAPublicKey();
        var ek = TpmtPublic.ParseTpm2b(AgentClient.Bytes(identity, "ekPublic"));
        Assert.Equal(ek.Rsa!.Modulus, certKey!.ExportParameters(false).Modulus);

        await AgentChecks.QuoteAndVerifyAsync(client, identity);
        await AgentChecks.QuoteAndVerifyAsync(client, identity, "sha1", [.. Enumerable.Range(0, 24)]);
        await AgentChecks.QuoteAndVerifyAsync(client, identity, "sha256", [.. Enumerable.Range(0, 24)]);
    }

    [SkippableFact]
    public async Task FiftyConcurrentQuotes_AllSucceed_OneCommandAtATime()
    {
        var swtpm = fixture.Swtpm;
        var tpm = new RecordingTpm(TpmConnection.Open(swtpm.Backend));
        await using var agent = await AgentHarness.StartAsync(tpm);
        using var client = agent.Client(maxConnections: 50);
        var statuses = await ConcurrencyTests.FireAsync(client, 50);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.Equal(1, tpm.MaxConcurrent);
        Assert.Equal(50, tpm.Quotes);
    }

    [SkippableFact]
    public async Task Restart_ReusesPersistentAk_AndTlsCertificate()
    {
        var swtpm = fixture.Swtpm;
        var data = TestTemp.CreateDirectory("trustpool-agent-swtpm-").FullName;
        using var pki = TestPki.Create();
        string akName, fingerprint;
        await using (var first = await AgentHarness.StartAsync([("", TpmConnection.Open(swtpm.Backend))], dataDirectory: data, pki: pki))
        {
            using var c = first.Client();
            var id = await c.GetJsonAsync("v1/identity");
            akName = id["akName"]!.GetValue<string>();
            fingerprint = id["tlsFingerprint"]!.GetValue<string>();
        }

        // The AK is at the persistent handle now: a second start reads it back instead of creating it.
        using (var check = TpmConnection.Open(swtpm.Backend))
        {
            var pub = check.ReadPublic(new TrustPool.Tpm.Client.TpmHandle(AgentDefaults.AkHandle));
            Assert.Equal(akName, Convert.ToBase64String(pub.Name));
        }

        await using var second = await AgentHarness.StartAsync([("", TpmConnection.Open(swtpm.Backend))], dataDirectory: data, pki: pki);
        using var c2 = second.Client();
        var id2 = await AgentChecks.EnrollAsync(c2);
        Assert.Equal(akName, id2["akName"]!.GetValue<string>());
        Assert.Equal(fingerprint, id2["tlsFingerprint"]!.GetValue<string>());
        await AgentChecks.QuoteAndVerifyAsync(c2, id2);
    }
}
