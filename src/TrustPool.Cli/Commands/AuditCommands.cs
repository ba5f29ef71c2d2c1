using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;
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
    public const string ExportFormat = "trustpool-audit-export/1";

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
            var problems = ComplianceCheck.Verify(report, pinned);
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
                ServiceClient.PrintJson(result.ToJson());
            }
            else
            {
                foreach (var problem in result.Problems)
                {
                    Console.WriteLine($"tampered: {problem}");
                }

                Console.WriteLine(result.Valid
                    ? $"valid: {result.Entries} records, {result.Checkpoints} signed checkpoints (latest size {result.VerifiedSize})"
                    : $"INVALID: {result.Problems.Count} problem(s)");
            }

            return result.Valid ? Program.ExitOk : Program.ExitRejected;
        }));
        return cmd;
    }
}

/// <summary>The outcome of verifying an export: each problem names the record index (or checkpoint size) it concerns.</summary>
internal sealed record AuditVerifyResult(int Entries, int Checkpoints, long VerifiedSize, IReadOnlyList<string> Problems)
{
    public bool Valid => Problems.Count == 0;

    public JsonObject ToJson() => new()
    {
        ["valid"] = Valid,
        ["entries"] = Entries,
        ["checkpoints"] = Checkpoints,
        ["verifiedSize"] = VerifiedSize,
        ["problems"] = new JsonArray([.. Problems.Select(x => (JsonNode)x)]),
    };
}

/// <summary>Offline verification of an audit export against its signed checkpoints.</summary>
internal static class AuditExportVerifier
{
    /// <summary>Throws <see cref="InvalidDataException"/> (exit 2) when the export or a key or checkpoint cannot be parsed.</summary>
    public static AuditVerifyResult Verify(string exportJson, IReadOnlyList<string> extraCheckpoints, string? publicKeyPem)
    {
        JsonNode doc;
        try
        {
            doc = JsonNode.Parse(exportJson) ?? throw new InvalidDataException("the export is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the export is not JSON: {e.Message}");
        }

        string Str(JsonNode? n, string what)
        {
            try
            {
                return n?.GetValue<string>() ?? throw new InvalidDataException($"the export has no {what}");
            }
            catch (InvalidOperationException)
            {
                throw new InvalidDataException($"the export's {what} is not a string");
            }
        }

        if (doc["format"]?.GetValue<string>() != AuditCommands.ExportFormat)
        {
            throw new InvalidDataException($"not a {AuditCommands.ExportFormat} document");
        }

        var keyName = Str(doc["keyName"], "keyName");
        var origin = Str(doc["origin"], "origin");
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem ?? Str(doc["publicKey"], "publicKey"));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new InvalidDataException($"the public key is not a PEM EC key: {e.Message}");
        }

        var verifier = new CheckpointVerifier(keyName, key, origin);
        var problems = new List<string>();

        // Signed checkpoints, by size (the export's and any given separately).
        var notes = new List<string>();
        foreach (var c in doc["checkpoints"]?.AsArray() ?? throw new InvalidDataException("the export has no checkpoints"))
        {
            notes.Add(Str(c?["note"], "checkpoint note"));
        }

        notes.AddRange(extraCheckpoints);
        var checkpoints = new SortedDictionary<ulong, Checkpoint>();
        foreach (var note in notes)
        {
            if (!verifier.TryVerify(note, out var cp, out var error))
            {
                if (error is MalformedCheckpoint && !note.Contains('\u2014', StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"not a signed checkpoint: {error.Message}");
                }

                problems.Add($"checkpoint: {error.Message}");
                continue;
            }

            if (checkpoints.TryGetValue(cp.Size, out var same) && !same.RootHash.AsSpan().SequenceEqual(cp.RootHash))
            {
                problems.Add($"checkpoint size {cp.Size}: two signed checkpoints with different roots (the log forked)");
                continue;
            }

            checkpoints[cp.Size] = cp;
        }

        // Records: canonical bytes, leaf hashes, positions.
        var entries = doc["entries"]?.AsArray() ?? throw new InvalidDataException("the export has no entries");
        var leaves = new List<byte[]>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i] ?? throw new InvalidDataException($"entry {i} is null");
            var bytes = Encoding.UTF8.GetBytes(Str(e["record"], $"record of entry {i}"));
            var leaf = MerkleHash.LeafHash(bytes);
            leaves.Add(leaf);
            long index;
            try
            {
                index = e["index"]?.GetValue<long>() ?? throw new InvalidDataException($"entry {i} has no index");
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"entry {i}: the index is not an integer");
            }

            if (index != i)
            {
                problems.Add(index > i
                    ? $"record {i}: missing or out of order (found the record stored as index {index} at position {i})"
                    : $"record {i}: inserted or out of order (found a record stored as index {index} at position {i})");
            }

            if (e["leafHash"] is { } stored && Str(stored, $"leafHash of entry {i}") != Convert.ToBase64String(leaf))
            {
                problems.Add($"record {i}: edited (its bytes do not hash to the stored leaf hash)");
            }

            try
            {
                var record = AuditRecordEncoding.Decode(bytes);
                if (e["type"] is { } type && Str(type, $"type of entry {i}") != record.Type)
                {
                    problems.Add($"record {i}: edited (type '{record.Type}' listed as '{type}')");
                }
            }
            catch (AuditRecordFormatException ex)
            {
                problems.Add($"record {i}: edited (not a canonical audit record: {ex.Message})");
            }
        }

        // Roots at every checkpoint size, and consistency between successive checkpoints.
        var range = new CompactRange();
        var tree = new MerkleTree();
        Checkpoint? previous = null;
        long verified = 0;
        var next = 0;
        foreach (var cp in checkpoints.Values)
        {
            if (cp.Size > (ulong)leaves.Count)
            {
                problems.Add($"record {leaves.Count}: records {leaves.Count}..{cp.Size - 1} are missing (a signed checkpoint covers {cp.Size} records)");
                break;
            }

            while ((ulong)next < cp.Size)
            {
                range.Append(leaves[next]);
                tree.AppendLeafHash(leaves[next]);
                next++;
            }

            if (!range.Root().AsSpan().SequenceEqual(cp.RootHash))
            {
                var from = previous?.Size ?? 0;
                problems.Add($"checkpoint size {cp.Size}: the records do not rebuild its signed root (a record in {from}..{cp.Size - 1} was edited, dropped, inserted or reordered)");
                break;
            }

            if (previous is not null && !CheckpointVerifier.TryVerifyConsistencyBetween(previous, cp, tree.ConsistencyProof(previous.Size, cp.Size), out var error))
            {
                problems.Add($"checkpoint size {cp.Size}: not consistent with checkpoint size {previous.Size}: {error.Message}");
                break;
            }

            verified = (long)cp.Size;
            previous = cp;
        }

        if (checkpoints.Count == 0)
        {
            problems.Add("no valid signed checkpoint: nothing is verified");
        }
        else if (verified < leaves.Count && problems.Count == 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"record {verified}: records {verified}..{leaves.Count - 1} are not covered by any signed checkpoint"));
        }

        return new AuditVerifyResult(entries.Count, checkpoints.Count, verified, problems);
    }
}
