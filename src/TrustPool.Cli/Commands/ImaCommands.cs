using TrustPool.Tpm.Structures;
using System.CommandLine;
using System.Globalization;
using System.Text;
using TrustPool.Evidence;
using TrustPool.Evidence.Ima;
using TrustPool.Tpm;

namespace TrustPool.Cli.Commands;

/// <summary><c>trustpool ima replay</c>: the Linux IMA measurement list (ascii or binary_runtime_measurements).</summary>
internal static class ImaCommands
{
    public static Command Create()
    {
        var ima = new Command("ima", "Parse and replay a Linux IMA measurement list.");
        ima.Subcommands.Add(Replay());
        return ima;
    }

    private static Command Replay()
    {
        var file = new Argument<string>("FILE") { Description = "ascii_runtime_measurements or binary_runtime_measurements" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var banks = new Option<string>("--banks") { Description = "banks to replay, comma-separated", DefaultValueFactory = _ => "sha1,sha256" };
        var convention = new Option<string>("--convention")
        {
            Description = "non-SHA-1 banks: 'bank' (kernel 5.8+, template data hashed per bank) or 'sha1-padded' (older kernels)",
            DefaultValueFactory = _ => "bank",
        };
        var expected = new Option<string[]>("--expected-pcr10")
        {
            Description = "quoted PCR10 as BANK:HEX (repeatable); replay stops where it is reached, exit 1 if never",
            AllowMultipleArgumentsPerToken = true,
        };
        var cmd = new Command("replay", "Replay the list into PCR10 per bank, checking every template hash.") { file, json, banks, convention, expected };
        cmd.SetAction(r => CliSupport.Run(() =>
        {
            var algs = Cli.ParseBanks(r.GetValue(banks)!);
            var conv = r.GetValue(convention) switch
            {
                "bank" => ImaPcrConvention.BankHash,
                "sha1-padded" => ImaPcrConvention.Sha1Padded,
                var other => throw new CliUsageException($"unknown convention '{other}' (bank or sha1-padded)"),
            };
            Dictionary<TpmAlgorithmId, byte[]>? quoted = null;
            foreach (var item in r.GetValue(expected) ?? [])
            {
                var colon = item.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || !TpmHash.TryParseName(item[..colon], out var alg) || !Hex.TryParse(item.AsSpan(colon + 1), out var value)
                    || value.Length != TpmHash.DigestSize(alg) || !algs.Contains(alg))
                {
                    throw new CliUsageException($"--expected-pcr10 '{item}': want BANK:HEX for a replayed bank");
                }

                quoted ??= [];
                quoted[alg] = value;
            }

            var log = ImaLog.Parse(Cli.ReadFile(r.GetValue(file)!));
            var result = ImaReplay.Replay(log, algs, new ImaReplayOptions { Convention = conv, QuotedPcr10 = quoted });
            var rejected = result.TemplateHashMismatches.Count > 0 || result.QuotedReached == false;
            if (r.GetValue(json))
            {
                CliSupport.WriteJson(w =>
                {
                    w.WriteStartObject();
                    Cli.WritePcrs(w, result.Pcrs);
                    w.WriteString("format", log.Format == ImaLogFormat.Ascii ? "ascii" : "binary");
                    w.WriteNumber("entries", log.Entries.Count);
                    w.WriteNumber("entriesReplayed", result.EntriesReplayed);
                    w.WriteNumber("entriesAfterQuote", result.EntriesAfterQuote);
                    w.WriteNumber("violations", result.Violations);
                    w.WriteNumber("trailingBytes", log.TrailingBytes);
                    if (result.QuotedReached is { } reached)
                    {
                        w.WriteBoolean("quotedReached", reached);
                    }

                    w.WriteStartArray("templateHashMismatches");
                    foreach (var m in result.TemplateHashMismatches)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("entry", m.Index);
                        w.WriteNumber("line", m.LineNumber);
                        w.WriteString("path", m.Path);
                        w.WriteString("logged", Hex.Lower(m.Logged));
                        w.WriteString("computed", Hex.Lower(m.Computed));
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteBoolean("verified", !rejected);
                    w.WriteEndObject();
                });
            }
            else
            {
                var o = new StringBuilder();
                o.Append(CultureInfo.InvariantCulture, $"{log.Entries.Count} entries ({(log.Format == ImaLogFormat.Ascii ? "ascii" : "binary")}), {result.Violations} violations");
                o.Append(log.TrailingBytes > 0 ? $", {log.TrailingBytes} trailing bytes (partial record)\n" : "\n");
                Console.Out.Write(o.ToString());
                Cli.WritePcrText(result.Pcrs);
                if (result.QuotedReached is { } reached)
                {
                    Console.WriteLine(reached
                        ? $"quoted PCR10 reached after {result.EntriesReplayed} entries; {result.EntriesAfterQuote} entries were appended after the quote"
                        : "REJECTED: the quoted PCR10 value is never reached");
                }

                foreach (var m in result.TemplateHashMismatches)
                {
                    Console.WriteLine($"REJECTED: {m}");
                }
            }

            return rejected ? Program.ExitRejected : Program.ExitOk;
        }));
        return cmd;
    }
}
