using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Spectre.Console;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;
using TpmPcrValues = TrustPool.Tpm.Structures.PcrValues;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool demo</c>: the all-in-one walk-through on embedded defaults (software TPMs, no network).
/// A simulated host boots, proves its AK lives beside its EK, is attested against a golden baseline, then
/// boots a tampered firmware and is caught, with the PCR and the first differing event named.
/// </summary>
internal static class DemoCommand
{
    private static readonly PcrSelection s_bootPcrs = PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 10));

    public static Command Create()
    {
        var hosts = new Option<int>("--hosts") { Description = "Number of simulated hosts", DefaultValueFactory = _ => 3 };
        var cmd = new Command("demo", "All-in-one demo: software TPM hosts boot, are attested, one is tampered and caught.") { hosts };
        cmd.SetAction(p => CliSupport.Run(() => RunAsync(p.GetValue(hosts)).GetAwaiter().GetResult()));
        return cmd;
    }

    private static async Task<int> RunAsync(int hostCount)
    {
        if (hostCount is < 2 or > 64)
        {
            throw new CliUsageException("--hosts must be 2..64 (one host is tampered, the others stay trusted)");
        }

        var total = Stopwatch.StartNew();
        AnsiConsole.MarkupLine("[bold]TrustPool demo[/]: software TPMs on this machine, nothing leaves loopback.");
        AnsiConsole.MarkupLine("[yellow]warning:[/] the TPM backend is a simulator (software TPM); never use it for production trust.");
        AnsiConsole.WriteLine();

        var work = Directory.CreateTempSubdirectory("trustpool-demo-");
        await using var agents = await DemoAgents.StartAsync(work.FullName);
        var golden = new SimulatedBoot();
        var hosts = new List<DemoHost>();
        for (var i = 1; i <= hostCount; i++)
        {
            hosts.Add(DemoHost.Boot($"host-{i:00}", golden, agents, work.FullName));
        }

        AnsiConsole.MarkupLine($"{hosts.Count} agents (software TPMs) listening on [bold]{Markup.Escape(agents.BaseAddress.ToString())}agents/NAME/[/], mutual TLS with a demo service CA.");

        // 1. The boot chain of the first host, as its event log tells it.
        Section("1. host-01 boots: firmware, boot loader and kernel are measured into PCRs 0-9");
        var chain = new Table().AddColumns("#", "PCR", "event", "what was measured", "sha256");
        foreach (var e in hosts[0].Log.Events)
        {
            if (e.EventType == TcgEventType.NoAction)
            {
                continue;
            }

            var what = TcgEventDecoder.TryDecode(e, hosts[0].Log.UintnBytes, out _)?.ToString() ?? "";
            chain.AddRow(e.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), e.PcrIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(e.TypeName), Markup.Escape(Shorten(what, 40)), Short(e.Digest(TpmAlgorithmId.Sha256), 8));
        }

        AnsiConsole.Write(chain);

        // 2. Enrollment over HTTPS: identity, then the AK is proven to live in the same TPM as the EK.
        Section("2. enrollment: GET /v1/identity, then MakeCredential / ActivateCredential binds the AK to the EK");
        var ids = new Table().AddColumns("host", "agent TLS fingerprint", "EK (RSA 2048) name", "AK (ECC P-256) name", "credential");
        foreach (var h in hosts)
        {
            var ok = await h.EnrollAsync(agents);
            ids.AddRow(h.Name, Short(Convert.FromHexString(h.TlsFingerprint)), Short(h.EkPublic.Name), Short(h.AkKey!.Name), ok ? "[green]activated[/]" : "[red]FAILED[/]");
            if (!ok)
            {
                throw new InvalidOperationException($"{h.Name}: credential activation returned the wrong secret");
            }
        }

        AnsiConsole.Write(ids);

        // 3. Attestation: fresh nonce, quote, verify, replay the log; the first verified quote becomes the baseline.
        Section("3. attestation: nonce -> quote -> verify signature, nonce, PCR digest -> replay the event log");
        var (baseline, firstQuote) = await hosts[0].AttestAsync(agents);
        var golden0 = baseline.VerifiedPcrs!;
        var results = new Table().AddColumns("host", "quote", "event log", "baseline", "trust");
        foreach (var h in hosts)
        {
            var v = h == hosts[0] ? baseline : (await h.AttestAsync(agents)).Result;
            var verdict = Judge(h, v, golden0, hosts[0].Log);
            results.AddRow(h.Name, v.IsValid ? "[green]valid[/]" : $"[red]{v.Fault!.Code}[/]", verdict.LogOk ? "[green]replays[/]" : "[red]does not replay[/]",
                verdict.Differences.Count == 0 ? "[green]matches[/]" : $"[red]{verdict.Differences.Count} PCR(s) differ[/]", TrustText(verdict.Trusted));
        }

        AnsiConsole.Write(results);
        var baselineTable = new Table().AddColumns("PCR", "baseline sha256 (golden values from host-01)");
        foreach (var (_, index, value) in golden0.All())
        {
            baselineTable.AddRow(index.ToString(System.Globalization.CultureInfo.InvariantCulture), Convert.ToHexStringLower(value));
        }

        AnsiConsole.Write(baselineTable);

        // 4. Attacks that must fail: a replayed quote and a quote signed by a foreign key.
        Section("4. attacks: replaying an old quote, and a quote from a key that was never enrolled");
        var replayed = QuoteVerifier.Verify(hosts[0].AkKey!, firstQuote.Attest, firstQuote.Signature, firstQuote.Pcrs,
            RandomNumberGenerator.GetBytes(32), s_bootPcrs);
        AnsiConsole.MarkupLine($"replayed quote with a new nonce: [red]{Markup.Escape(replayed.Fault?.ToString() ?? "accepted?!")}[/]");
        using (var rogue = SoftwareTpm.CreateInMemory())
        {
            var rogueAk = rogue.CreateAk(TpmKeyAlgorithm.EccP256);
            var nonce = RandomNumberGenerator.GetBytes(32);
            var q = rogue.Quote(rogueAk.Handle, nonce, s_bootPcrs);
            var forged = QuoteVerifier.Verify(hosts[0].AkKey!, q.Attest, q.Signature, rogue.ReadPcrs(s_bootPcrs), nonce, s_bootPcrs);
            AnsiConsole.MarkupLine($"quote signed by an unenrolled AK: [red]{Markup.Escape(forged.Fault?.ToString() ?? "accepted?!")}[/]");
            if (replayed.IsValid || forged.IsValid)
            {
                throw new InvalidOperationException("an attack quote was accepted");
            }
        }

        // 5. Tamper: the last host reboots with a modified firmware volume (one measurement changed).
        var victim = hosts[^1];
        Section($"5. tamper: {victim.Name} reboots with a modified firmware image");
        victim.Reboot(golden with { FirmwareVolume = "simulated firmware volume, with an implant"u8.ToArray() });
        var (tampered, _) = await victim.AttestAsync(agents);
        var judged = Judge(victim, tampered, golden0, hosts[0].Log);
        AnsiConsole.MarkupLine($"quote: {(tampered.IsValid ? "[green]valid[/] (the TPM is honest: it reports what booted)" : "[red]" + Markup.Escape(tampered.Fault!.ToString()) + "[/]")}");
        foreach (var d in judged.Differences)
        {
            AnsiConsole.MarkupLine($"[red]UNTRUSTED[/] {Markup.Escape(d)}");
        }

        if (judged.Trusted || judged.Differences.Count == 0)
        {
            throw new InvalidOperationException("the tampered host was not caught");
        }

        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine($"[bold]demo complete[/] in {total.Elapsed.TotalSeconds:0.0} s: {hosts.Count - 1} trusted, 1 untrusted ({victim.Name}).");
        foreach (var h in hosts)
        {
            h.Dispose();
        }

        return Program.ExitOk;
    }

    private sealed record Verdict(bool LogOk, List<string> Differences)
    {
        public bool Trusted => LogOk && Differences.Count == 0;
    }

    /// <summary>Trust needs a valid quote, a log that replays to the quoted PCRs, and quoted PCRs equal to the baseline.</summary>
    private static Verdict Judge(DemoHost host, QuoteVerification quote, TpmPcrValues golden, TcgEventLog goldenLog)
    {
        if (!quote.IsValid)
        {
            return new Verdict(false, [quote.Fault!.ToString()]);
        }

        var logOk = host.ReceivedLog is { } received && EventLogVerifier.Verify(received, quote.VerifiedPcrs!).Matches;
        var differences = new List<string>();
        // Name the differing event only from a log that replays to the verified quote: an unverified log proves nothing.
        var againstGolden = logOk ? EventLogVerifier.Verify(host.ReceivedLog!, golden, goldenLog) : null;
        foreach (var (bank, index, value) in quote.VerifiedPcrs!.All())
        {
            var expected = golden.Get(bank, index);
            if (expected.AsSpan().SequenceEqual(value))
            {
                continue;
            }

            var m = againstGolden?.Mismatches.FirstOrDefault(x => x.Bank == bank && x.Index == index);
            var ev = m?.FirstDivergingEvent is { } e ? $"; first differing event #{e.Number} {e.TypeName}" : "";
            differences.Add($"PCR[{index}] {TpmHash.Name(bank)} expected {Short(expected)} got {Short(value)}{ev}");
        }

        return new Verdict(logOk, differences);
    }

    private static string TrustText(bool trusted) => trusted ? "[green]trusted[/]" : "[red]untrusted[/]";

    private static void Section(string title)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
    }

    private static string Short(byte[]? bytes, int chars = 16) => bytes is null ? "-" : Convert.ToHexStringLower(bytes)[..Math.Min(chars, bytes.Length * 2)] + "..";

    private static string Shorten(string s, int n) => s.Length <= n ? s : s[..(n - 2)] + "..";

    /// <summary>
    /// A simulated host: its software TPM and boot log on the host side (what boots is measured into the TPM and
    /// written to the log file its agent serves), and what the service learned at enrollment (EK, pinned AK).
    /// </summary>
    private sealed class DemoHost : IDisposable
    {
        private readonly string _logFile;

        private DemoHost(string name, SoftwareTpm tpm, string logFile)
        {
            Name = name;
            Tpm = tpm;
            _logFile = logFile;
        }

        public string Name { get; }

        /// <summary>Host side only: the demo "boots" the host by extending this TPM. The service never touches it.</summary>
        public SoftwareTpm Tpm { get; }

        public Uri AgentUrl { get; private set; } = null!;

        public TcgEventLog Log { get; private set; } = null!;

        /// <summary>The log as the agent served it with the last quote (unverified until replayed against the quote).</summary>
        public TcgEventLog? ReceivedLog { get; private set; }

        public string TlsFingerprint { get; private set; } = "";

        public TpmtPublic EkPublic { get; private set; } = null!;

        public AttestationKey? AkKey { get; private set; }

        public static DemoHost Boot(string name, SimulatedBoot boot, DemoAgents agents, string directory)
        {
            var tpm = SoftwareTpm.CreateInMemory();
            var host = new DemoHost(name, tpm, Path.Combine(directory, name + ".binary_bios_measurements"));
            host.Measure(boot);
            host.AgentUrl = agents.Add(name, tpm, host._logFile);
            return host;
        }

        public void Reboot(SimulatedBoot boot)
        {
            Tpm.Reboot();
            Measure(boot);
        }

        private void Measure(SimulatedBoot boot)
        {
            var builder = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), boot);
            foreach (var x in builder.Extends)
            {
                Tpm.ExtendPcr((int)x.PcrIndex, [.. x.Digests.Select(d => new TpmtHa(d.Key, d.Value))]);
            }

            var bytes = builder.ToArray();
            File.WriteAllBytes(_logFile, bytes);
            Log = TcgEventLog.Parse(bytes);
        }

        /// <summary>Enrollment as the service does it: identity, AK attribute check, credential activation over mTLS.</summary>
        public async Task<bool> EnrollAsync(DemoAgents agents)
        {
            var id = await agents.IdentityAsync(AgentUrl);
            TlsFingerprint = id.TlsFingerprint;
            EkPublic = TpmtPublic.ParseTpm2b(id.EkPublic);
            var akPublic = TpmtPublic.ParseTpm2b(id.AkPublic);
            if ((akPublic.ObjectAttributes & TpmTemplates.AkAttributes) != TpmTemplates.AkAttributes ||
                !akPublic.Name.AsSpan().SequenceEqual(id.AkName))
            {
                return false;
            }

            var secret = RandomNumberGenerator.GetBytes(32);
            var challenge = CredentialProtection.MakeCredential(EkPublic, akPublic.Name, secret);
            var answer = await agents.ActivateCredentialAsync(AgentUrl, challenge);
            if (!CryptographicOperations.FixedTimeEquals(answer, secret))
            {
                return false;
            }

            AkKey = AttestationKey.FromPublic(akPublic);
            return true;
        }

        public async Task<(QuoteVerification Result, (byte[] Attest, byte[] Signature, PcrValues Pcrs) Quote)> AttestAsync(DemoAgents agents)
        {
            var nonce = RandomNumberGenerator.GetBytes(32);
            var (attest, signature, pcrs, log) = await agents.QuoteAsync(AgentUrl, nonce, s_bootPcrs);
            ReceivedLog = log is null ? null : TcgEventLog.Parse(log);
            return (QuoteVerifier.Verify(AkKey!, attest, signature, pcrs, nonce, s_bootPcrs), (attest, signature, pcrs));
        }

        public void Dispose() => AkKey?.Dispose();
    }
}
