using TrustPool.Tpm.Structures;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TrustPool.Evidence;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Cli.Commands;

/// <summary><c>trustpool eventlog show|replay</c>: the UEFI measured-boot log (binary_bios_measurements).</summary>
internal static class EventLogCommands
{
    public static Command Create()
    {
        var eventlog = new Command("eventlog", "Parse, explain and replay a TCG PC Client (UEFI) event log.");
        eventlog.Subcommands.Add(Show());
        eventlog.Subcommands.Add(Replay());
        eventlog.Subcommands.Add(Generate());
        return eventlog;
    }

    private static Command Show()
    {
        var file = new Argument<string>("FILE") { Description = "binary_bios_measurements file" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var cmd = new Command("show", "List every event with its decoded payload, and the facts a baseline uses.") { file, json };
        cmd.SetAction(r => CliSupport.Run(() =>
        {
            var log = TcgEventLog.Parse(Cli.ReadFile(r.GetValue(file)!));
            if (r.GetValue(json))
            {
                CliSupport.WriteJson(w => WriteShowJson(w, log));
            }
            else
            {
                WriteShowText(log);
            }

            return Program.ExitOk;
        }));
        return cmd;
    }

    private static Command Replay()
    {
        var file = new Argument<string>("FILE") { Description = "binary_bios_measurements file" };
        var json = new Option<bool>("--json") { Description = "print one JSON document: {\"pcrs\": {bank: {index: hex}}}" };
        var expected = new Option<string?>("--expected") { Description = "quoted PCRs to verify against, as JSON {\"pcrs\": {bank: {index: hex}}}; exit 1 on mismatch" };
        var baseline = new Option<string?>("--baseline") { Description = "a known-good event log, to name the first event that differs" };
        var cmd = new Command("replay", "Replay the log into PCR values per bank; optionally verify them against quoted values.") { file, json, expected, baseline };
        cmd.SetAction(r => CliSupport.Run(() =>
        {
            var bytes = Cli.ReadFile(r.GetValue(file)!);
            var expectedPath = r.GetValue(expected);
            if (expectedPath is null)
            {
                var replay = EventLogReplay.Replay(bytes); // streaming: no event objects
                if (r.GetValue(json))
                {
                    Cli.WritePcrsJsonFast(replay.Pcrs);
                }
                else
                {
                    Cli.WritePcrText(replay.Pcrs);
                    foreach (var s in replay.Skipped)
                    {
                        Console.WriteLine($"skipped {s.Event}: {s.Reason}");
                    }

                    foreach (var b in replay.UnsupportedBanks)
                    {
                        Console.WriteLine($"bank {TpmHash.Name(b)} not replayed: hash not supported");
                    }
                }

                return Program.ExitOk;
            }

            var log = TcgEventLog.Parse(bytes);
            var quoted = Cli.ReadPcrJson(expectedPath);
            var baselinePath = r.GetValue(baseline);
            var baselineLog = baselinePath is null ? null : TcgEventLog.Parse(Cli.ReadFile(baselinePath));
            var v = EventLogVerifier.Verify(log, quoted, baselineLog);
            if (r.GetValue(json))
            {
                CliSupport.WriteJson(w => WriteVerificationJson(w, v));
            }
            else
            {
                Cli.WritePcrText(v.Replay.Pcrs);
                foreach (var wa in v.AppliedWorkarounds)
                {
                    Console.WriteLine($"workaround applied: {wa.Name}");
                }

                foreach (var d in v.DigestMismatches)
                {
                    Console.WriteLine($"note: {d.Event} {TpmHash.Name(d.Bank)} digest is not the hash of its payload (informational)");
                }

                Console.WriteLine(v.Matches ? "verified: the log reproduces every quoted PCR it touches" : "REJECTED: the log does not reproduce the quoted PCRs");
                foreach (var m in v.Mismatches)
                {
                    Console.WriteLine(m.ToString());
                }
            }

            return v.Matches ? Program.ExitOk : Program.ExitRejected;
        }));
        return cmd;
    }

    private static Command Generate()
    {
        // Numbers are read as strings: value-type options are JIT-compiled at every start-up of the CLI.
        var events = new Option<string>("--events") { Description = "number of events (Spec ID included)", DefaultValueFactory = _ => "50000" };
        var output = new Option<string>("--out") { Description = "output file", Required = true };
        var banks = new Option<string>("--banks") { Description = "comma-separated banks", DefaultValueFactory = _ => "sha1,sha256,sha384" };
        var seed = new Option<string>("--seed") { DefaultValueFactory = _ => "1" };
        var cmd = new Command("generate", "Write a random, well-formed crypto-agile log (tests and benchmarks).") { events, output, banks, seed };
        cmd.Hidden = true;
        cmd.SetAction(r => CliSupport.Run(() =>
        {
            var algs = Cli.ParseBanks(r.GetValue(banks)!);
            var count = Cli.ParseInt(r.GetValue(events), "--events");
            if (count < 1)
            {
                throw new CliUsageException("--events must be at least 1");
            }

            File.WriteAllBytes(r.GetValue(output)!, EventLogGenerator.Random(Cli.ParseInt(r.GetValue(seed), "--seed"), count, algs));
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static void WriteShowText(TcgEventLog log)
    {
        var o = new StringBuilder();
        o.Append(CultureInfo.InvariantCulture, $"format: {(log.Format == TcgLogFormat.CryptoAgile ? "crypto-agile" : "SHA-1")}, banks: {string.Join(",", log.Banks.Select(TpmHash.Name))}, {log.Events.Count} events\n");
        foreach (var wa in log.AppliedWorkarounds)
        {
            o.Append(CultureInfo.InvariantCulture, $"workaround applied: {wa.Name}\n");
        }

        foreach (var e in log.Events)
        {
            string? error = null;
            var decoded = e.Number == 0 && log.SpecId is not null ? new SpecIdEventData(log.SpecId) : TcgEventDecoder.TryDecode(e, log.UintnBytes, out error);
            var text = decoded?.ToString() ?? (error is not null ? $"(undecodable: {error})" : $"({e.Data.Length} bytes)");
            o.Append(CultureInfo.InvariantCulture, $"{e.Number,5} PCR{(e.PcrIndex == uint.MaxValue ? "-1" : e.PcrIndex.ToString(CultureInfo.InvariantCulture)),-3} {e.TypeName,-34} {text}\n");
            foreach (var d in e.Digests)
            {
                o.Append(CultureInfo.InvariantCulture, $"{"",10}{TpmHash.Name(d.Algorithm)}:{Hex.Lower(d.Value)}\n");
            }
        }

        var facts = BootFacts.Extract(log);
        o.Append("facts:\n");
        o.Append(CultureInfo.InvariantCulture, $"  secure boot: {(facts.SecureBoot is { } sb ? (sb ? "on" : "off") : "not measured")}\n");
        foreach (var (name, v) in facts.SecureBootVariables)
        {
            o.Append(CultureInfo.InvariantCulture, $"  {name}: sha256(data)={Hex.Lower(v.Sha256OfData)}, {v.SignatureCount} signatures\n");
        }

        foreach (var fw in facts.FirmwareVersions)
        {
            o.Append(CultureInfo.InvariantCulture, $"  firmware version: {fw}\n");
        }

        foreach (var a in facts.Authorities)
        {
            o.Append(CultureInfo.InvariantCulture, $"  image authority: {a}\n");
        }

        foreach (var app in facts.EfiApplications)
        {
            o.Append(CultureInfo.InvariantCulture, $"  EFI application (event {app.EventNumber}): {app.DevicePath} {Cli.FirstDigest(app.Digests)}\n");
        }

        if (facts.KernelDigests is not null)
        {
            o.Append(CultureInfo.InvariantCulture, $"  kernel: {facts.KernelName} {Cli.FirstDigest(facts.KernelDigests)}\n");
        }

        if (facts.KernelCommandLine is not null)
        {
            o.Append(CultureInfo.InvariantCulture, $"  kernel command line: {facts.KernelCommandLine}\n");
        }

        foreach (var d in EventDigestCheck.Find(log))
        {
            o.Append(CultureInfo.InvariantCulture, $"note: {d.Event} {TpmHash.Name(d.Bank)} digest is not the hash of its payload (informational)\n");
        }

        Console.Out.Write(o.ToString());
    }

    private static void WriteShowJson(Utf8JsonWriter w, TcgEventLog log)
    {
        w.WriteStartObject();
        w.WriteString("format", log.Format == TcgLogFormat.CryptoAgile ? "crypto-agile" : "sha1");
        w.WriteStartArray("banks");
        foreach (var b in log.Banks)
        {
            w.WriteStringValue(TpmHash.Name(b));
        }

        w.WriteEndArray();
        w.WriteStartArray("workarounds");
        foreach (var wa in log.AppliedWorkarounds)
        {
            w.WriteStringValue(wa.Name);
        }

        w.WriteEndArray();
        w.WriteStartArray("events");
        foreach (var e in log.Events)
        {
            w.WriteStartObject();
            w.WriteNumber("number", e.Number);
            w.WriteNumber("pcr", e.PcrIndex == uint.MaxValue ? -1 : e.PcrIndex);
            w.WriteString("type", e.TypeName);
            w.WriteNumber("offset", e.Offset);
            w.WriteStartObject("digests");
            foreach (var d in e.Digests)
            {
                w.WriteString(TpmHash.Name(d.Algorithm), Hex.Lower(d.Value));
            }

            w.WriteEndObject();
            w.WriteNumber("size", e.Data.Length);
            string? error = null;
            var decoded = e.Number == 0 && log.SpecId is not null ? new SpecIdEventData(log.SpecId) : TcgEventDecoder.TryDecode(e, log.UintnBytes, out error);
            if (decoded is not null)
            {
                w.WriteString("description", decoded.ToString());
            }
            else if (error is not null)
            {
                w.WriteString("decodeError", error);
            }

            if (e.Data.Length <= 1024)
            {
                w.WriteString("data", Hex.Lower(e.Data));
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        var facts = BootFacts.Extract(log);
        w.WriteStartObject("facts");
        if (facts.SecureBoot is { } sb)
        {
            w.WriteBoolean("secureBoot", sb);
        }
        else
        {
            w.WriteNull("secureBoot");
        }

        w.WriteStartObject("secureBootVariables");
        foreach (var (name, v) in facts.SecureBootVariables)
        {
            w.WriteStartObject(name);
            Cli.WriteDigests(w, "digests", v.Digests);
            w.WriteString("sha256OfData", Hex.Lower(v.Sha256OfData));
            w.WriteNumber("signatures", v.SignatureCount);
            w.WriteStartArray("certificateSubjects");
            foreach (var s in v.CertificateSubjects)
            {
                w.WriteStringValue(s);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartArray("efiApplications");
        foreach (var app in facts.EfiApplications)
        {
            w.WriteStartObject();
            w.WriteNumber("event", app.EventNumber);
            w.WriteString("devicePath", app.DevicePath);
            Cli.WriteDigests(w, "digests", app.Digests);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (facts.BootLoader is { } loader)
        {
            w.WriteStartObject("bootLoader");
            w.WriteString("devicePath", loader.DevicePath);
            Cli.WriteDigests(w, "digests", loader.Digests);
            w.WriteEndObject();
        }

        if (facts.KernelDigests is not null)
        {
            w.WriteStartObject("kernel");
            w.WriteString("name", facts.KernelName);
            Cli.WriteDigests(w, "digests", facts.KernelDigests);
            w.WriteEndObject();
        }

        w.WriteString("kernelCommandLine", facts.KernelCommandLine);
        w.WriteStartArray("authorities");
        foreach (var a in facts.Authorities)
        {
            w.WriteStringValue(a);
        }

        w.WriteEndArray();
        w.WriteStartArray("firmwareVersions");
        foreach (var fw in facts.FirmwareVersions)
        {
            w.WriteStringValue(fw);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("digestMismatches");
        foreach (var d in EventDigestCheck.Find(log))
        {
            w.WriteStartObject();
            w.WriteNumber("event", d.Event.Number);
            w.WriteString("bank", TpmHash.Name(d.Bank));
            w.WriteString("logged", Hex.Lower(d.Logged));
            w.WriteString("ofPayload", Hex.Lower(d.OfPayload));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteVerificationJson(Utf8JsonWriter w, EventLogVerification v)
    {
        w.WriteStartObject();
        Cli.WritePcrs(w, v.Replay.Pcrs);
        w.WriteBoolean("verified", v.Matches);
        w.WriteStartArray("mismatches");
        foreach (var m in v.Mismatches)
        {
            w.WriteStartObject();
            w.WriteString("bank", TpmHash.Name(m.Bank));
            w.WriteNumber("index", m.Index);
            w.WriteString("expected", Hex.Lower(m.Expected));
            w.WriteString("actual", Hex.Lower(m.Actual));
            if (m.FirstDivergingEvent is { } e)
            {
                w.WriteStartObject("firstDivergingEvent");
                w.WriteNumber("number", e.Number);
                w.WriteNumber("pcr", e.PcrIndex);
                w.WriteString("type", e.TypeName);
                var d = TcgEventDecoder.TryDecode(e, 8, out _);
                if (d is not null)
                {
                    w.WriteString("description", d.ToString());
                }

                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("firstDivergingEvent");
            }

            w.WriteString("reason", m.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("workarounds");
        foreach (var wa in v.AppliedWorkarounds)
        {
            w.WriteStringValue(wa.Name);
        }

        w.WriteEndArray();
        w.WriteStartArray("digestMismatches");
        foreach (var d in v.DigestMismatches)
        {
            w.WriteStartObject();
            w.WriteNumber("event", d.Event.Number);
            w.WriteString("bank", TpmHash.Name(d.Bank));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}

/// <summary>Shared plumbing of the evidence verbs: file reading, exit codes, JSON and PCR output.</summary>
internal static class Cli
{
    /// <summary>
    /// Reads a log file. A file made only of base64 characters (keylime and tpm2-tss store logs so) is
    /// decoded first: a binary log starts with zero bytes and an ASCII IMA list holds spaces and ':', so
    /// neither is mistaken for base64.
    /// </summary>
    public static byte[] ReadFile(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            return bytes;
        }

        foreach (var b in bytes)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'+' or (byte)'/' or (byte)'=' or (byte)'\n' or (byte)'\r'))
            {
                return bytes;
            }
        }

        try
        {
            return Convert.FromBase64String(Encoding.ASCII.GetString(bytes));
        }
        catch (FormatException)
        {
            return bytes;
        }
    }

    public static int ParseInt(string? text, string option) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v : throw new CliUsageException($"{option}: '{text}' is not a whole number");

    /// <summary>
    /// {"pcrs": {bank: {index: hex}}} written by hand (hex digits and bank names need no escaping): the
    /// JSON writer's encoder tables cost more start-up time than the whole replay of a typical log.
    /// </summary>
    public static void WritePcrsJsonFast(PcrValues pcrs)
    {
        var sb = new StringBuilder(256 + (pcrs.Count * 110));
        sb.Append("{\n  \"pcrs\": {");
        var firstBank = true;
        foreach (var bank in pcrs.Banks)
        {
            sb.Append(firstBank ? "\n    \"" : ",\n    \"").Append(TpmHash.Name(bank)).Append("\": {");
            firstBank = false;
            var first = true;
            foreach (var (index, value) in pcrs.Bank(bank))
            {
                sb.Append(first ? "\n      \"" : ",\n      \"").Append(index.ToString(CultureInfo.InvariantCulture)).Append("\": \"").Append(Hex.Lower(value)).Append('"');
                first = false;
            }

            sb.Append(first ? "}" : "\n    }");
        }

        sb.Append(firstBank ? "}\n}\n" : "\n  }\n}\n");
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    public static TpmAlgorithmId[] ParseBanks(string text)
    {
        var list = new List<TpmAlgorithmId>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TpmHash.TryParseName(name, out var alg) || !TpmHash.IsSupported(alg))
            {
                throw new CliUsageException($"unknown or unsupported bank '{name}'");
            }

            list.Add(alg);
        }

        if (list.Count == 0)
        {
            throw new CliUsageException("no bank given");
        }

        return [.. list];
    }

    /// <summary>"pcrs": {bank: {index: hex}} with lower-case hex, every PCR present in <paramref name="pcrs"/>.</summary>
    public static void WritePcrs(Utf8JsonWriter w, PcrValues pcrs)
    {
        w.WriteStartObject("pcrs");
        foreach (var bank in pcrs.Banks)
        {
            w.WriteStartObject(TpmHash.Name(bank));
            foreach (var (index, value) in pcrs.Bank(bank))
            {
                w.WriteString(index.ToString(CultureInfo.InvariantCulture), Hex.Lower(value));
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    public static void WritePcrText(PcrValues pcrs)
    {
        var o = new StringBuilder();
        foreach (var bank in pcrs.Banks)
        {
            o.Append(TpmHash.Name(bank)).Append(":\n");
            foreach (var (index, value) in pcrs.Bank(bank))
            {
                o.Append(CultureInfo.InvariantCulture, $"  {index,2}: {Hex.Lower(value)}\n");
            }
        }

        Console.Out.Write(o.ToString());
    }

    public static void WriteDigests(Utf8JsonWriter w, string name, IReadOnlyList<TcgDigest> digests)
    {
        w.WriteStartObject(name);
        foreach (var d in digests)
        {
            w.WriteString(TpmHash.Name(d.Algorithm), Hex.Lower(d.Value));
        }

        w.WriteEndObject();
    }

    public static string FirstDigest(IReadOnlyList<TcgDigest> digests)
    {
        var d = digests.FirstOrDefault(x => x.Algorithm == TpmAlgorithmId.Sha256);
        d = d.Value is null ? digests.FirstOrDefault() : d;
        return d.Value is null ? "" : $"{TpmHash.Name(d.Algorithm)}:{Hex.Lower(d.Value)}";
    }

    /// <summary>Reads quoted PCRs as {"pcrs": {bank: {index: hex}}} (the replay JSON) or the bare inner object.</summary>
    public static PcrValues ReadPcrJson(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"{path}: not JSON: {ex.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("pcrs", out var inner))
            {
                root = inner;
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CliUsageException($"{path}: expected {{\"pcrs\": {{bank: {{index: hex}}}}}}");
            }

            var values = new PcrValues();
            foreach (var bank in root.EnumerateObject())
            {
                if (!TpmHash.TryParseName(bank.Name, out var alg) || bank.Value.ValueKind != JsonValueKind.Object)
                {
                    throw new CliUsageException($"{path}: unknown bank '{bank.Name}'");
                }

                foreach (var pcr in bank.Value.EnumerateObject())
                {
                    if (!int.TryParse(pcr.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index > 23
                        || pcr.Value.ValueKind != JsonValueKind.String || !Hex.TryParse(pcr.Value.GetString(), out var value)
                        || value.Length != TpmHash.DigestSize(alg))
                    {
                        throw new CliUsageException($"{path}: bad value for {bank.Name} PCR '{pcr.Name}'");
                    }

                    values.Set(alg, index, value);
                }
            }

            return values;
        }
    }
}
