using System.Net;
using System.Text.Json.Nodes;
using TrustPool.Agent;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Pki;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 13, hole 7, through the real service over HTTPS and real agents: a weak AK (SHA-1 name or scheme, on a
/// real swtpm or rewritten by a tampering proxy) and EK certificates outside the TCG EK Credential Profile are refused
/// with their own problem types, and nothing is stored.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KeyStrengthTests
{
    private const string Provider = "sqlite";
    private static readonly SimulatedBoot s_golden = new();

    private static async Task<(HttpStatusCode Status, JsonNode? Problem)> EnrollAsync(ServiceHarness h, string name, Uri url, string fingerprint) =>
        await h.SendAsync(HttpMethod.Post, "/v1/hosts", new JsonObject { ["name"] = name, ["agentUrl"] = url.ToString(), ["agentCertFingerprint"] = fingerprint });

    private static async Task AssertRefusedAsync(ServiceHarness h, string name, (HttpStatusCode Status, JsonNode? Problem) answer, string type, string detail)
    {
        Assert.True(answer.Status == HttpStatusCode.UnprocessableEntity, $"{(int)answer.Status} {answer.Problem?.ToJsonString()}");
        Assert.Equal("urn:trustpool:service:" + type, answer.Problem!["type"]!.GetValue<string>());
        Assert.Contains(detail, answer.Problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, $"/v1/hosts/{name}")).Item1);
    }

    /// <summary>The identity's akPublic rebuilt by <paramref name="edit"/>, with the akName that matches it.</summary>
    private static Func<string, JsonNode?, JsonNode, JsonNode> RewriteAk(Func<TpmtPublic, TpmtPublic> edit) => (path, _, answer) =>
    {
        if (path == "v1/identity")
        {
            var pub = edit(TpmtPublic.ParseTpm2b(Convert.FromBase64String(answer["akPublic"]!.GetValue<string>())));
            answer["akPublic"] = Convert.ToBase64String(pub.ToTpm2b());
            answer["akName"] = Convert.ToBase64String(pub.Name);
        }

        return answer;
    };

    /// <summary>The AK (RSA or ECC, as the agent made it) with its scheme's hash set to <paramref name="hash"/>, or TPM_ALG_NULL when null.</summary>
    private static TpmtPublic WithScheme(TpmtPublic ak, TpmAlgorithmId? hash)
    {
        var rsa = hash is { } h ? new TpmScheme(TpmAlgorithmId.RsaSsa, h) : TpmScheme.Null;
        var ecc = hash is { } e ? new TpmScheme(TpmAlgorithmId.EcDsa, e) : TpmScheme.Null;
        return new TpmtPublic(ak.Type, ak.NameAlg, ak.ObjectAttributes, ak.AuthPolicy, ak.Rsa is { } r ? r with { Scheme = rsa } : null,
            ak.Ecc is { } c ? c with { Scheme = ecc } : null);
    }

    private static async Task<(HttpStatusCode, JsonNode?)> EnrollBehindProxyAsync(ServiceHarness h, Func<string, JsonNode?, JsonNode, JsonNode> rewrite)
    {
        var real = h.AddSoftwareHost("real", s_golden);
        using var ca = ServiceCa.LoadOrCreate(h.Options.DataDirectory, out _);
        await using var proxy = await TamperingProxy.StartAsync(Path.Combine(h.Dir.FullName, "proxy"), ca.LoadOrIssueClientCertificate(h.Options.DataDirectory));
        proxy.Upstream = real.AgentUrl;
        proxy.Rewrite = rewrite;
        return await EnrollAsync(h, "victim", proxy.Url, proxy.Fingerprint);
    }

    [SkippableFact]
    public async Task ProxyAkWithShaOneNameAlg_Enrollment_RefusedAsWeak()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var answer = await EnrollBehindProxyAsync(h, RewriteAk(ak => new TpmtPublic(ak.Type, TpmAlgorithmId.Sha1, ak.ObjectAttributes, ak.AuthPolicy, ak.Rsa, ak.Ecc)));
        await AssertRefusedAsync(h, "victim", answer, "enrollment-ak-weak", "nameAlg Sha1");
    }

    [SkippableFact]
    public async Task ProxyAkWithShaOneScheme_Enrollment_RefusedAsWeak()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var answer = await EnrollBehindProxyAsync(h, RewriteAk(ak => WithScheme(ak, TpmAlgorithmId.Sha1)));
        await AssertRefusedAsync(h, "victim", answer, "enrollment-ak-weak", "uses Sha1");
    }

    [SkippableFact]
    public async Task ProxyAkWithNullScheme_Enrollment_RefusedAsWeak()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var answer = await EnrollBehindProxyAsync(h, RewriteAk(ak => WithScheme(ak, null)));
        await AssertRefusedAsync(h, "victim", answer, "enrollment-ak-weak", "no signing scheme");
    }

    /// <summary>
    /// No proxy: a real swtpm whose AK really is weak (made with tpm2-tools and persisted where the agent looks for
    /// its AK), so on the old code every other enrollment step (EK certificate, credential activation) passes.
    /// </summary>
    [SkippableTheory]
    [InlineData("sha1-scheme", "uses Sha1")]
    [InlineData("sha1-name", "nameAlg Sha1")]
    public async Task SwtpmWithWeakAk_Enrollment_RefusedAsWeak(string kind, string detail)
    {
        using var swtpm = SwtpmInstance.Start();
        await using var h = await ServiceHarness.StartAsync(Provider);
        var tools = new Tpm2Tools(swtpm, Directory.CreateDirectory(Path.Combine(h.Dir.FullName, "tpm2-tools")).FullName);
        if (kind == "sha1-scheme")
        {
            tools.RunChecked("tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub");
            tools.RunChecked("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "rsa", "-g", "sha1", "-s", "rsassa", "-u", "ak.pub", "-n", "ak.name");
        }
        else
        {
            // A restricted signing primary (owner hierarchy) whose nameAlg is SHA-1, RSASSA/SHA-256 otherwise.
            tools.RunChecked("tpm2_createprimary", "-C", "o", "-g", "sha1", "-G", "rsa2048:rsassa-sha256:null", "-c", "ak.ctx",
                "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign");
        }

        var handle = "0x" + AgentDefaults.AkHandle.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        tools.RunChecked("tpm2_evictcontrol", "-C", "o", "-c", "ak.ctx", handle);
        var persisted = tools.RunChecked("tpm2_readpublic", "-c", handle).ToString();
        Assert.Contains("sha1", persisted, StringComparison.Ordinal); // the precondition: the TPM really holds the weak AK
        foreach (var pem in new[] { "/var/lib/swtpm-localca/issuercert.pem", "/var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem" })
        {
            File.Copy(pem, Path.Combine(h.Options.EkCaDirectory!, Path.GetFileName(pem)), overwrite: true);
        }

        var log = Path.Combine(h.Dir.FullName, "weak.binary_bios_measurements");
        File.WriteAllBytes(log, EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), s_golden).ToArray());
        var tpm = TpmConnection.Open(swtpm.Backend);
        var agent = h.Agents.AddAgent("/agents/weak/", tpm, "weak", new AgentOptions
        {
            UefiLog = log, DataDirectory = Path.Combine(h.Dir.FullName, "agents"), AkAlgorithm = "rsa",
        });
        Assert.Equal(Convert.ToHexStringLower(TpmtPublic.ParseTpm2b(agent.Tpm.Identity.AkPublic).Name), Convert.ToHexStringLower(agent.Tpm.Identity.AkName));
        Assert.Contains(Convert.ToHexStringLower(agent.Tpm.Identity.AkName), persisted, StringComparison.Ordinal); // the agent serves the weak AK
        var answer = await EnrollAsync(h, "weak", new Uri(h.Agents.Addresses[0], "/agents/weak/"), h.Agents.TlsFingerprint);
        await AssertRefusedAsync(h, "weak", answer, "enrollment-ak-weak", detail);
    }

    [SkippableTheory]
    [InlineData(EkCertificate.WrongKeyUsage, "lacks keyEncipherment")]
    [InlineData(EkCertificate.UnknownCriticalExtension, "unrecognised critical extension 1.3.6.1.4.1.55555.1.1")]
    public async Task EkCertificateOutsideProfile_Enrollment_Refused(EkCertificate kind, string detail)
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var host = h.AddSoftwareHost("loose", s_golden, kind);
        await AssertRefusedAsync(h, "loose", await EnrollAsync(h, "loose", host.AgentUrl, host.Fingerprint), "enrollment-ek-certificate-profile", detail);

        // The same vendor CA with a conformant certificate enrolls: the refusal is the profile's, not the chain's.
        var good = h.AddSoftwareHost("good", s_golden);
        var (status, body) = await EnrollAsync(h, "good", good.AgentUrl, good.Fingerprint);
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {body?.ToJsonString()}");
    }

    [SkippableFact]
    public async Task SwtpmEkCertificate_Enrollment_Accepted()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var corpus = TestData.Require("go-attestation", "attest", "testdata", "crypto_agile_eventlog");
        var host = h.AddSwtpmHost("swtpm", corpus);
        await h.EnrollAsync(host);
    }
    /// <summary>
    /// A host enrolled by a release that did not check AK strength keeps its row: the same key under a SHA-1 name is
    /// what such a row looks like. Its quotes still verify with that key, but the service no longer believes them.
    /// </summary>
    [SkippableFact]
    public async Task HostEnrolledWithWeakAkBeforeTheCheck_Attestation_UnknownAkWeak()
    {
        await using var h = await ServiceHarness.StartAsync(Provider);
        var host = h.AddSoftwareHost("legacy", s_golden);
        await h.EnrollAsync(host);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, "legacy");
        Assert.Equal("trusted", (await h.AttestAsync("legacy"))["trust"]!.GetValue<string>());

        var store = h.Server.Context.Store;
        var record = (await store.GetHostAsync("legacy"))!;
        var ak = TpmtPublic.ParseTpm2b(record.AkPublic);
        var weak = new TpmtPublic(ak.Type, TpmAlgorithmId.Sha1, ak.ObjectAttributes, ak.AuthPolicy, ak.Rsa, ak.Ecc);
        await using (var tx = await store.BeginAsync())
        {
            await tx.UpdateHostAsync(record with { AkPublic = weak.ToTpm2b(), AkName = weak.Name });
            await tx.CommitAsync();
        }

        h.Server.Context.Attestations.Forget("legacy");
        var report = await h.AttestAsync("legacy");
        Assert.Equal("unknown", report["trust"]!.GetValue<string>());
        var fault = report["faults"]!.AsArray().Single(f => f!["code"]!.GetValue<string>() == "AkWeak");
        Assert.Contains("nameAlg sha1", fault!["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        var (status, problem) = await h.SendAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject
        {
            ["fromHost"] = "legacy", ["kinds"] = new JsonArray("platform"), ["name"] = "from-legacy",
        });
        Assert.True(status == HttpStatusCode.Conflict, $"{(int)status} {problem?.ToJsonString()}");
        Assert.Equal("urn:trustpool:service:re-enrollment-required", problem!["type"]!.GetValue<string>());
    }
}
