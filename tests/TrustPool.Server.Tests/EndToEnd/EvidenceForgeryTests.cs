using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Agent;
using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Uefi;
using TrustPool.Testing;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 13, holes 1 and 5: log fields the TPM did not sign never make a host trusted. Each host is a real agent over
/// mutual TLS serving a software TPM whose PCRs were extended with exactly the (forged) logs it serves, so every
/// replay matches and only the service's reading of the bytes can catch the lie.
/// </summary>
[Trait("Category", "Integration")]
public sealed class EvidenceForgeryTests
{
    private static readonly SimulatedBoot s_golden = new();

    /// <summary>A file the kernel measured with the ima-sig template (d-ng, n-ng, sig), relabelled as <paramref name="template"/>.</summary>
    private static ImaRecord SigEntry(string path, string contents, byte[] signature, string template = "ima-sig") =>
        ImaRecord.Ng("ima-sig", path, SHA256.HashData(Encoding.UTF8.GetBytes(contents)), signature) with { Template = template };

    private static ImaRecord NgEntry(string path, string contents) => ImaRecord.Ng("ima-ng", path, SHA256.HashData(Encoding.UTF8.GetBytes(contents)));

    /// <summary>
    /// A tofu host whose agent serves a generated UEFI log and a binary IMA list: boot_aggregate over its sha256 PCR 0-9
    /// first (the kernel 5.8+ rule), then <paramref name="entries"/>; PCR 10 extended with each record's real template hash.
    /// </summary>
    private static TestHost AddImaHost(ServiceHarness h, string name, params ImaRecord[] entries)
    {
        var tpm = SoftwareTpm.CreateInMemory();
        var builder = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), s_golden);
        foreach (var x in builder.Extends)
        {
            tpm.ExtendPcr((int)x.PcrIndex, [.. x.Digests.Select(d => new TpmtHa(d.Key, d.Value))]);
        }

        var uefi = Path.Combine(h.Dir.FullName, name + ".binary_bios_measurements");
        File.WriteAllBytes(uefi, builder.ToArray());
        var boot = tpm.ReadPcrs(PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 10)));
        var aggregate = ImaBootAggregate.Compute(TpmAlgorithmId.Sha256, boot.Bank(TpmAlgorithmId.Sha256).ToDictionary(kv => kv.Key, kv => kv.Value), 9);
        ImaRecord[] records = [ImaRecord.Ng("ima-sig", "boot_aggregate", aggregate, []), .. entries];
        foreach (var r in records)
        {
            tpm.ExtendPcr(10, [new TpmtHa(TpmAlgorithmId.Sha1, r.TemplateHash), new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData(r.Data))]);
        }

        var ima = Path.Combine(h.Dir.FullName, name + ".binary_runtime_measurements");
        File.WriteAllBytes(ima, ImaRecord.WriteBinary(records));
        var pathBase = $"/agents/{name}/";
        h.Agents.AddAgent(pathBase, tpm, name, new AgentOptions { UefiLog = uefi, ImaLog = ima, DataDirectory = Path.Combine(h.Dir.FullName, "agents") });
        var host = new TestHost { Name = name, AgentUrl = new Uri(h.Agents.Addresses[0], pathBase), Tpm = tpm, LogFile = uefi, Fingerprint = h.Agents.TlsFingerprint };
        h.Hosts[name] = host;
        return host;
    }

    private static readonly byte[] s_signature = Convert.FromHexString("030204f3452d2300080102030405060708");

    /// <summary>The reference host runs bash (signed) and ls; its baselines and a pool requiring platform, os and software.</summary>
    private static async Task<ServiceHarness> StartWithReferenceAsync()
    {
        var h = await ServiceHarness.StartAsync("sqlite", o => o with { EkTrust = "tofu", EkCaDirectory = null });
        var reference = AddImaHost(h, "ref", SigEntry("/usr/bin/bash", "bash", s_signature), NgEntry("/usr/bin/ls", "ls"));
        await h.EnrollAsync(reference);
        await h.OkAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject
        {
            ["fromHost"] = "ref", ["kinds"] = new JsonArray("platform", "os", "software"), ["name"] = "gold",
        });
        await h.OkAsync(HttpMethod.Post, "/v1/pools", new JsonObject
        {
            ["name"] = "prod",
            ["require"] = new JsonObject
            {
                ["platform"] = new JsonArray("gold-platform"), ["os"] = new JsonArray("gold-os"), ["software"] = new JsonArray("gold-software"),
            },
        });
        Assert.True((await h.AttestAsync("ref"))["trust"]!.GetValue<string>() == "trusted", "the reference host itself must be trusted");
        return h;
    }

    private static List<string> AllFaultCodes(JsonNode report) =>
    [
        .. report["faults"]!.AsArray().Select(f => f!["code"]!.GetValue<string>()),
        .. report["pools"]!.AsArray().SelectMany(p => p!["rules"]!.AsArray()).SelectMany(r => r!["faults"]!.AsArray()).Select(f => f!["code"]!.GetValue<string>()),
    ];

    [SkippableFact]
    public async Task Attest_UnlistedImaSigBinaryRelabelledAsImaBuf_UntrustedWithImaTemplateInvalid()
    {
        await using var h = await StartWithReferenceAsync();
        // The miner's ima-sig record keeps its bytes (so the template hash and PCR 10 still match) under the name ima-buf.
        var evil = AddImaHost(h, "evil", SigEntry("/usr/bin/bash", "bash", s_signature), NgEntry("/usr/bin/ls", "ls"),
            SigEntry("/usr/bin/miner", "cryptominer", s_signature, template: "ima-buf"));
        await h.EnrollAsync(evil);

        var report = await h.AttestAsync("evil");

        Assert.True(report["trust"]!.GetValue<string>() == "untrusted", report.ToJsonString());
        Assert.Contains("ImaTemplateInvalid", AllFaultCodes(report));
    }

    [SkippableFact]
    public async Task Attest_UnlistedFileNamedBootAggregate_UntrustedWithImaBootAggregateMismatch()
    {
        await using var h = await StartWithReferenceAsync();
        // An unlisted file measured under the path "boot_aggregate" (not the first entry, not the aggregate of PCR 0-9).
        var evil = AddImaHost(h, "evil", SigEntry("/usr/bin/bash", "bash", s_signature), NgEntry("/usr/bin/ls", "ls"),
            SigEntry("boot_aggregate", "cryptominer", []));
        await h.EnrollAsync(evil);

        var report = await h.AttestAsync("evil");

        Assert.True(report["trust"]!.GetValue<string>() == "untrusted", report.ToJsonString());
        Assert.Contains("ImaBootAggregateMismatch", AllFaultCodes(report));
    }

    [SkippableFact]
    public async Task Attest_HonestImaHost_StillTrusted()
    {
        await using var h = await StartWithReferenceAsync();
        var honest = AddImaHost(h, "honest", NgEntry("/usr/bin/ls", "ls"), SigEntry("/usr/bin/bash", "bash", s_signature));
        await h.EnrollAsync(honest);

        var report = await h.AttestAsync("honest");

        Assert.True(report["trust"]!.GetValue<string>() == "trusted", report.ToJsonString());
    }

    /// <summary>
    /// A software host whose PCRs hold the golden boot with Secure Boot off (sha1 + sha256) but whose agent serves
    /// <paramref name="log"/> instead.
    /// </summary>
    private static TestHost AddHostServing(ServiceHarness h, string name, byte[] log)
    {
        var host = h.AddSoftwareHost(name, s_golden with { SecureBoot = false });
        File.WriteAllBytes(host.LogFile, log);
        return host;
    }

    /// <summary>A boot whose facts are all lies: Secure Boot on, a backdoor command line, another kernel.</summary>
    private static readonly SimulatedBoot s_fabricated = s_golden with
    {
        SecureBoot = true,
        KernelCommandLine = "root=/dev/sda1 init=/bin/backdoor",
        KernelPath = "/boot/vmlinuz-fabricated",
    };

    private static async Task<JsonObject> FactsOfImportAsync(ServiceHarness h, string host, string template)
    {
        await h.OkAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject
        {
            ["fromHost"] = host, ["kinds"] = new JsonArray("platform"), ["name"] = host + "-imported", ["template"] = template,
        });
        return (await h.OkAsync(HttpMethod.Get, $"/v1/baselines/{host}-imported"))["facts"]!.AsObject();
    }

    [SkippableFact]
    public async Task ImportBaseline_Sha1OnlyLogAgainstSha256Quote_TakesNoFactsAndNamesNoEvent()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        // SHA-1 events only: nothing in it can be replayed against the sha256 quote.
        var forged = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1), s_fabricated).ToArray();
        var liar = AddHostServing(h, "liar", forged);
        var honest = h.AddSoftwareHost("honest", s_golden with { FirmwareVersion = "another firmware" });
        await h.EnrollAsync(liar);
        await h.EnrollAsync(honest);

        var facts = await FactsOfImportAsync(h, "liar", "uefi");

        Assert.False(facts.ContainsKey("cmdline"), facts.ToJsonString());
        Assert.False(facts.ContainsKey("kernel"), facts.ToJsonString());
        Assert.False(facts.ContainsKey("secureBoot"), facts.ToJsonString());
        Assert.StartsWith("unverified", facts["uefiLog"]!.GetValue<string>(), StringComparison.Ordinal);

        // Judged against another host's platform baseline: untrusted by its PCRs, and nothing of the forged log is quoted.
        await h.OkAsync(HttpMethod.Post, "/v1/baselines/import", new JsonObject { ["fromHost"] = "honest", ["kinds"] = new JsonArray("platform"), ["name"] = "other" });
        await h.OkAsync(HttpMethod.Post, "/v1/pools", new JsonObject { ["name"] = "p", ["require"] = new JsonObject { ["platform"] = new JsonArray("other") } });
        var report = await h.AttestAsync("liar");
        Assert.Equal("untrusted", report["trust"]!.GetValue<string>());
        Assert.DoesNotContain("backdoor", report.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("fabricated", report.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The same lie on a real swtpm, made consistent where it can be: tpm2_pcrextend puts the forged SHA-1-only log's
    /// events into the SHA-1 bank (the log replays there exactly) and what really booted into the SHA-256 bank, which is
    /// what the service quotes. Only the rule that a log must reproduce a quoted PCR in a quoted bank can catch it.
    /// </summary>
    [SkippableFact]
    public async Task ImportBaseline_Sha1OnlyLogReplayingOnSwtpmSha1Bank_Sha256Quote_TakesNoFacts()
    {
        using var swtpm = SwtpmInstance.Start();
        await using var h = await ServiceHarness.StartAsync("sqlite");
        foreach (var pem in new[] { "/var/lib/swtpm-localca/issuercert.pem", "/var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem" })
        {
            File.Copy(pem, Path.Combine(h.Options.EkCaDirectory!, Path.GetFileName(pem)), overwrite: true);
        }

        var booted = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), s_golden with { SecureBoot = false });
        var forged = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1), s_fabricated);
        var specs = booted.Extends.Select(x => $"{x.PcrIndex}:sha256={Convert.ToHexStringLower(x.Digests[TpmAlgorithmId.Sha256])}")
            .Concat(forged.Extends.Select(x => $"{x.PcrIndex}:sha1={Convert.ToHexStringLower(x.Digests[TpmAlgorithmId.Sha1])}"));
        var tools = new Tpm2Tools(swtpm, TrustPool.Testing.TestTemp.CreateDirectory("tp-pcrextend-").FullName);
        foreach (var chunk in specs.Chunk(8))
        {
            tools.RunChecked("tpm2_pcrextend", chunk);
        }

        var logFile = Path.Combine(h.Dir.FullName, "liar.binary_bios_measurements");
        var forgedLog = forged.ToArray();
        File.WriteAllBytes(logFile, forgedLog);
        var tpm = TpmConnection.Open(swtpm.Backend);
        h.Agents.AddAgent("/agents/liar/", tpm, "liar", new AgentOptions { UefiLog = logFile, DataDirectory = Path.Combine(h.Dir.FullName, "agents") });
        var liar = new TestHost { Name = "liar", AgentUrl = new Uri(h.Agents.Addresses[0], "/agents/liar/"), Tpm = tpm, LogFile = logFile, Fingerprint = h.Agents.TlsFingerprint };
        await h.EnrollAsync(liar);

        // The forged log is exact on the TPM's SHA-1 bank: a verifier that accepted any bank would believe it.
        var replay = TrustPool.Evidence.Replay.EventLogReplay.Replay(TcgEventLog.Parse(forgedLog));
        var sha1 = tpm.ReadPcrs(PcrSelection.Single(TpmAlgorithmId.Sha1, Enumerable.Range(0, 10)));
        foreach (var (index, value) in replay.Pcrs.Bank(TpmAlgorithmId.Sha1))
        {
            Assert.Equal(Convert.ToHexStringLower(sha1.Get(TpmAlgorithmId.Sha1, index)), Convert.ToHexStringLower(value));
        }

        var facts = await FactsOfImportAsync(h, "liar", "uefi");

        Assert.False(facts.ContainsKey("cmdline"), facts.ToJsonString());
        Assert.False(facts.ContainsKey("kernel"), facts.ToJsonString());
        Assert.False(facts.ContainsKey("secureBoot"), facts.ToJsonString());
        Assert.StartsWith("unverified (EventLogBankNotQuoted)", facts["uefiLog"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ImportBaseline_LogCoversOnlyPcrsTheQuoteDidNotSelect_TakesNoFacts()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        // A UEFI log (PCR 0-9) against a quote of PCR 17-19 only (the txt template): it explains no quoted PCR.
        var forged = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), s_fabricated).ToArray();
        var liar = AddHostServing(h, "liar", forged);
        await h.EnrollAsync(liar);

        var facts = await FactsOfImportAsync(h, "liar", "txt");

        Assert.False(facts.ContainsKey("cmdline"), facts.ToJsonString());
        Assert.False(facts.ContainsKey("secureBoot"), facts.ToJsonString());
        Assert.StartsWith("unverified", facts["uefiLog"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ImportBaseline_HonestLog_FactsFromVerifiedEvents()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var host = h.AddSoftwareHost("honest", s_golden);
        await h.EnrollAsync(host);

        var facts = await FactsOfImportAsync(h, "honest", "uefi");

        Assert.Equal("true", facts["secureBoot"]!.GetValue<string>());
        Assert.Equal(s_golden.KernelCommandLine, facts["cmdline"]!.GetValue<string>().Split(' ', 2)[1]);
        Assert.False(facts.ContainsKey("uefiLog"), facts.ToJsonString());
    }
}
