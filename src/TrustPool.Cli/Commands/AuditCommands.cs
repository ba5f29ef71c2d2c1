using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Audit.Compliance;
using TrustPool.Audit.Exports;
using TrustPool.Cli.Commands.Admin;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool audit export --out FILE</c> (from the service: every entry covered by the latest checkpoint, every
/// stored checkpoint, the signing public key) and <c>trustpool audit verify EXPORT</c> (offline: leaf hashes from the
/// record bytes, roots at every checkpoint size, signatures, consistency between successive checkpoints).
/// Exit codes: 0 valid, 1 tampered (each problem printed with the record index), 2 unparseable.
/// </summary>
internal static class AuditCommands
{
    public const string ExportFormat = AuditExport.Format;

    public static Command Create()
    {
        var audit = new Command("audit", "The Merkle audit log: export it from the service, verify an export offline") { Export(), Verify(), Report() };
        return audit;
    }

    /// <summary>The export document (<see cref="ExportFormat"/>): every entry up to the latest checkpoint, every checkpoint, the key.</summary>
    internal static async Task<JsonObject> ExportAsync(ServiceClient c)
    {
        // Ask for a checkpoint first: the service signs a new one when the log grew and the last is old enough.
        _ = await c.GetAsync("v1/audit/checkpoint");
        var list = await c.GetAsync("v1/audit/checkpoints");
        var checkpoints = list["checkpoints"]!.AsArray();
        var covered = checkpoints.Count == 0 ? 0 : checkpoints.Max(x => x!["size"]!.GetValue<long>());
        var entries = new JsonArray();
        while (entries.Count < covered)
        {
            var page = await c.GetAsync($"v1/audit/entries?from={entries.Count}&to={covered}");
            var got = page["entries"]!.AsArray();
            if (got.Count == 0)
            {
                throw new ServiceRefusedException(0, $"the service returned no entries from {entries.Count}");
            }

            foreach (var e in got)
            {
                entries.Add(new JsonObject
                {
                    ["index"] = e!["index"]!.GetValue<long>(),
                    ["type"] = e["type"]!.GetValue<string>(),
                    ["record"] = e["record"]!.GetValue<string>(),
                    ["leafHash"] = e["leafHash"]!.GetValue<string>(),
                });
            }
        }

        var doc = new JsonObject
        {
            ["format"] = ExportFormat,
            ["origin"] = list["origin"]!.GetValue<string>(),
            ["keyName"] = list["keyName"]!.GetValue<string>(),
            ["publicKey"] = list["publicKey"]!.GetValue<string>(),
            ["size"] = covered,
            ["checkpoints"] = new JsonArray([.. checkpoints.Select(x => (JsonNode)new JsonObject { ["size"] = x!["size"]!.GetValue<long>(), ["note"] = x["note"]!.GetValue<string>() })]),
            ["entries"] = entries,
        };
        return doc;
    }

    private static Command Export()
    {
        var output = new Option<string>("--out") { Description = "File to write the export (JSON) to", Required = true };
        var cmd = new Command("export", "Export every audit entry, every stored checkpoint and the signing public key as one JSON document") { output };
        cmd.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var doc = await ExportAsync(c);
            var entries = doc["entries"]!.AsArray();
            var checkpoints = doc["checkpoints"]!.AsArray();
            await File.WriteAllTextAsync(p.GetValue(output)!, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            var summary = new JsonObject { ["out"] = p.GetValue(output), ["entries"] = entries.Count, ["checkpoints"] = checkpoints.Count };
            if (json)
            {
                ServiceClient.PrintJson(summary);
            }
            else
            {
                Console.WriteLine($"exported {entries.Count} entries and {checkpoints.Count} checkpoints to {p.GetValue(output)}");
            }

            return Program.ExitOk;
        }));
        return ServiceClient.WithConnection(cmd);
    }

    /// <summary>
    /// Compliance report of a workload (<c>--workload W</c>) or of a host over an interval (<c>--host H --from T1 --to
    /// T2</c>), built by the service from its audit log (GET /v1/audit/compliance): placements, covering reports with the
    /// baseline versions they matched, gaps in trust, and an inclusion proof per cited record. Nothing is printed
    /// before the checkpoint signature and every proof have been checked here.
    /// </summary>
    private static Command Report()
    {
        var workload = new Option<string>("--workload") { Description = "Workload name" };
        var host = new Option<string>("--host") { Description = "Host name (with --from and --to)" };
        var from = new Option<string>("--from") { Description = "Start of the interval, ISO 8601 (with --host)" };
        var to = new Option<string>("--to") { Description = "End of the interval, ISO 8601 (with --host)" };
        var html = new Option<string>("--html") { Description = "Also save the service's readable HTML page of the report to this file" };
        var publicKey = new Option<string>("--public-key") { Description = "PEM public key the checkpoint must be signed with (default: the key the service names)" };
        var cmd = new Command("report", "Compliance report (JSON) of a workload or of a host over an interval: placements, covering reports and baselines, trust gaps, inclusion proofs checked against the signed checkpoint")
        {
            workload, host, from, to, html, publicKey,
        };
        cmd.SetAction(p => ServiceClient.Run(p, async (c, _) =>
        {
            var w = p.GetValue(workload);
            var h = p.GetValue(host);
            if ((w is null) == (h is null) || (h is not null && (p.GetValue(from) is null || p.GetValue(to) is null)))
            {
                throw new CliUsageException("give --workload W, or --host H with --from T1 and --to T2");
            }

            var query = w is not null
                ? $"workload={Uri.EscapeDataString(w)}"
                : $"host={Uri.EscapeDataString(h!)}&from={Uri.EscapeDataString(p.GetValue(from)!)}&to={Uri.EscapeDataString(p.GetValue(to)!)}";
            var report = (await c.GetAsync($"v1/audit/compliance?{query}")).AsObject();
            var pinned = p.GetValue(publicKey) is { } pem ? await File.ReadAllTextAsync(pem) : null;
            var problems = ComplianceReportVerifier.Verify(report, pinned);
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"tampered: {problem}");
            }

            if (problems.Count > 0)
            {
                return Program.ExitRejected;
            }

            if (p.GetValue(html) is { } file)
            {
                await File.WriteAllTextAsync(file, await c.GetTextAsync($"v1/audit/compliance?{query}&format=html"));
            }

            ServiceClient.PrintJson(report);
            if (w is not null && report["placements"]!.AsArray().Count == 0)
            {
                Console.Error.WriteLine($"no placement of '{w}' in the audit log (up to size {report["checkpointSize"]})");
                return Program.ExitRejected;
            }

            return Program.ExitOk;
        }));
        return ServiceClient.WithConnection(cmd);
    }

    private static Command Verify()
    {
        var file = new Argument<string>("export") { Description = "An export written by 'trustpool audit export'" };
        var checkpoint = new Option<string[]>("--checkpoint") { Description = "A signed checkpoint (note text file) obtained independently (repeatable)" };
        var key = new Option<string>("--public-key") { Description = "PEM public key to check signatures with (default: the key in the export)" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON document" };
        var cmd = new Command("verify", "Verify an audit export offline: exit 0 valid, 1 tampered, 2 unparseable") { file, checkpoint, key, json };
        cmd.SetAction(p => CliSupport.Run(() =>
        {
            var result = AuditExportVerifier.Verify(
                File.ReadAllText(p.GetValue(file)!),
                [.. (p.GetValue(checkpoint) ?? []).Select(File.ReadAllText)],
                p.GetValue(key) is { } k ? File.ReadAllText(k) : null);
            if (p.GetValue(json))
            {
                ServiceClient.PrintJson(ToJson(result));
            }
            else
            {
                foreach (var problem in result.Problems)
                {
                    Console.WriteLine($"tampered: {problem.Message}");
                }

                Console.WriteLine(result.Valid
                    ? $"valid: {result.Entries} records, {result.Checkpoints} signed checkpoints (latest size {result.VerifiedSize})"
                    : $"INVALID: {result.Problems.Count} problem(s)");
            }

            return result.Valid ? Program.ExitOk : Program.ExitRejected;
        }));
        return cmd;
    }

    private static JsonObject ToJson(AuditExportVerification result) => new()
    {
        ["valid"] = result.Valid,
        ["entries"] = result.Entries,
        ["checkpoints"] = result.Checkpoints,
        ["verifiedSize"] = result.VerifiedSize,
        ["problems"] = new JsonArray([.. result.Problems.Select(x => (JsonNode)x.Message)]),
    };
}
