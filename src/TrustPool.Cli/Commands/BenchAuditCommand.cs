using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool bench audit</c>: the issue 7 performance targets of the Merkle audit log, in-process.
/// Appends/s with the node store kept current (every proof servable after each append; target ≥ 20,000/s),
/// inclusion proof generation in a <c>--leaves</c> tree (target &lt; 1 ms at 10M), verification of a
/// <c>--records</c> export (rebuild the root from every record, target &lt; 10 s for 1M); then <c>--events</c> appends
/// through the service's store, one transaction per event (target ≥ 5,000/s on SQLite; <see cref="BenchAuditStore"/>).
/// </summary>
internal static class BenchAuditCommand
{
    private const long DefaultLeaves = 10_000_000;
    private const long DefaultRecords = 1_000_000;
    private const int ProofSamples = 10_000;
    private const int VerifySamples = 100_000;
    private const int AppendWithProofSamples = 100_000;
    private const int DefaultStoreEvents = 20_000;

    public static Command Create()
    {
        var leaves = new Option<string>("--leaves") { Description = "leaves in the in-memory tree (proof generation is timed at this size)", DefaultValueFactory = _ => DefaultLeaves.ToString(CultureInfo.InvariantCulture) };
        var records = new Option<string>("--records") { Description = "records in the export replay (default: min(--leaves, 1000000))" };
        var database = new Option<string>("--database") { Description = "store for the transactional appends: sqlite:PATH or postgres:CONNSTR with an empty audit log (default: SQLite in a temporary directory)" };
        var events = new Option<string>("--events") { Description = "audit appends through the store, each in its own transaction (0: skip)", DefaultValueFactory = _ => DefaultStoreEvents.ToString(CultureInfo.InvariantCulture) };
        var batch = new Option<string>("--batch") { Description = "records per store transaction (1: one event per transaction)", DefaultValueFactory = _ => "1" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var cmd = new Command("audit", "Merkle audit log: appends/s, inclusion proof generation, proof verification, export replay, appends through the store.") { leaves, records, database, events, batch, json };
        cmd.SetAction(r => CliSupport.Run(() =>
        {
            var n = ParseCount(r.GetValue(leaves), "--leaves", 1_000_000_000);
            var m = r.GetValue(records) is { } text ? ParseCount(text, "--records", 100_000_000) : Math.Min(n, DefaultRecords);
            var storeEvents = r.GetValue(events) == "0" ? 0 : (int)ParseCount(r.GetValue(events), "--events", 10_000_000);
            var perTransaction = r.GetValue(batch) == "1" ? 1 : (int)ParseCount(r.GetValue(batch), "--batch", 10_000);
            var result = Measure(n, m);
            var stored = storeEvents == 0 ? null : MeasureStore(r.GetValue(database), storeEvents, perTransaction);
            if (r.GetValue(json))
            {
                CliSupport.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("processorCount", Environment.ProcessorCount);
                    w.WriteNumber("leaves", result.Leaves);
                    w.WriteNumber("buildSeconds", Math.Round(result.BuildSeconds, 3));
                    w.WriteNumber("appendsPerSecond", Math.Round(result.AppendsPerSecond));
                    w.WriteNumber("storeBytes", result.StoreBytes);
                    w.WriteNumber("appendWithRootAndProofCount", result.AppendWithProofCount);
                    w.WriteNumber("appendWithRootAndProofPerSecond", Math.Round(result.AppendWithProofPerSecond));
                    w.WriteNumber("inclusionProofCount", result.ProofCount);
                    w.WriteNumber("inclusionProofMeanMicroseconds", Math.Round(result.ProofMeanUs, 2));
                    w.WriteNumber("inclusionProofP99Microseconds", Math.Round(result.ProofP99Us, 2));
                    w.WriteNumber("consistencyProofMeanMicroseconds", Math.Round(result.ConsistencyMeanUs, 2));
                    w.WriteNumber("inclusionVerifyCount", result.VerifyCount);
                    w.WriteNumber("inclusionVerifyMeanMicroseconds", Math.Round(result.VerifyMeanUs, 2));
                    w.WriteNumber("inclusionVerifyProjected1MSeconds", Math.Round(result.VerifyMeanUs, 3));
                    w.WriteNumber("exportRecords", result.Records);
                    w.WriteNumber("exportBytes", result.ExportBytes);
                    w.WriteNumber("exportReplaySeconds", Math.Round(result.ReplaySeconds, 3));
                    w.WriteNumber("exportReplayRecordsPerSecond", Math.Round(result.Records / result.ReplaySeconds));
                    w.WriteNumber("exportDecodeSeconds", Math.Round(result.DecodeSeconds, 3));
                    w.WriteBoolean("exportRootMatches", result.RootMatches);
                    if (stored is not null)
                    {
                        w.WriteStartObject("store");
                        w.WriteString("provider", stored.Provider);
                        w.WriteNumber("events", stored.Events);
                        w.WriteNumber("recordsPerTransaction", stored.Batch);
                        w.WriteNumber("seconds", Math.Round(stored.Seconds, 3));
                        w.WriteNumber("appendsPerSecond", Math.Round(stored.AppendsPerSecond));
                        w.WriteNumber("transactionP99Milliseconds", Math.Round(stored.P99Milliseconds, 3));
                        w.WriteBoolean("proofsVerify", stored.Verified);
                        w.WriteEndObject();
                    }

                    w.WriteEndObject();
                });
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"append (node store kept current): {result.Leaves:N0} leaves in {result.BuildSeconds:F2} s = {result.AppendsPerSecond:N0}/s, {result.StoreBytes / 1048576.0:N0} MiB of nodes"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"append + root + inclusion proof of the new leaf: {result.AppendWithProofPerSecond:N0}/s ({result.AppendWithProofCount:N0} appends)"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"inclusion proof at {result.Leaves:N0} leaves: mean {result.ProofMeanUs:F1} us, p99 {result.ProofP99Us:F1} us ({result.ProofCount:N0} proofs); consistency proof mean {result.ConsistencyMeanUs:F1} us"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"inclusion proof verification: mean {result.VerifyMeanUs:F2} us ({result.VerifyCount:N0} proofs; 1M would take {result.VerifyMeanUs:F2} s)"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"export replay: {result.Records:N0} records ({result.ExportBytes / 1048576.0:N0} MiB) hashed and root rebuilt in {result.ReplaySeconds:F2} s, root {(result.RootMatches ? "matches" : "DIFFERS")}; canonical decode of every record {result.DecodeSeconds:F2} s"));
            }

            if (stored is not null && !r.GetValue(json))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"appends through {stored.Provider}, {stored.Batch} record(s) per transaction: {stored.Events:N0} in {stored.Seconds:F2} s = {stored.AppendsPerSecond:N0}/s, transaction p99 {stored.P99Milliseconds:F2} ms; stored proofs {(stored.Verified ? "verify" : "DO NOT VERIFY")}"));
            }

            return result.RootMatches && stored?.Verified != false ? Program.ExitOk : Program.ExitRejected;
        }));
        return cmd;
    }

    private static long ParseCount(string? text, string name, long max)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 2 || value > max)
        {
            throw new CliUsageException($"{name}: '{text}' is not a whole number in 2..{max}");
        }

        return value;
    }

    private static BenchAuditStore.Result MeasureStore(string? database, int events, int batch)
    {
        var temp = Directory.CreateTempSubdirectory("trustpool-bench-audit-");
        try
        {
            return BenchAuditStore.MeasureAsync(database ?? "sqlite:bench.db", temp.FullName, events, batch).GetAwaiter().GetResult();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            temp.Delete(recursive: true);
        }
    }

    private static AuditBenchResult Measure(long leaves, long records)
    {
        var result = new AuditBenchResult { Leaves = leaves, Records = records };
        var random = new Random(7);

        // 1. Appends with the node store kept current: the whole tree is built by Append.
        var store = new InMemoryMerkleNodeStore();
        var tree = new MerkleTree(store);
        Span<byte> data = stackalloc byte[8];
        var sw = Stopwatch.StartNew();
        for (long i = 0; i < leaves; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(data, i);
            tree.Append(data);
        }

        result.BuildSeconds = sw.Elapsed.TotalSeconds;
        result.AppendsPerSecond = leaves / result.BuildSeconds;
        result.StoreBytes = store.AllocatedBytes;
        var size = tree.Size;
        var root = tree.Root();

        // 2. Inclusion and consistency proof generation at `leaves`.
        var proofCount = (int)Math.Min(ProofSamples, leaves);
        var times = new double[proofCount];
        for (var i = 0; i < 100; i++)
        {
            tree.InclusionProof((ulong)random.NextInt64(leaves), size); // warm-up (tiered JIT)
        }

        for (var i = 0; i < proofCount; i++)
        {
            var index = (ulong)random.NextInt64(leaves);
            var t0 = Stopwatch.GetTimestamp();
            tree.InclusionProof(index, size);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }

        Array.Sort(times);
        result.ProofCount = proofCount;
        result.ProofMeanUs = times.Average();
        result.ProofP99Us = times[(int)(proofCount * 0.99)];
        sw.Restart();
        for (var i = 0; i < proofCount; i++)
        {
            tree.ConsistencyProof(1 + (ulong)random.NextInt64(leaves - 1), size);
        }

        result.ConsistencyMeanUs = sw.Elapsed.TotalMicroseconds / proofCount;

        // 3. Verification of inclusion proofs against the root (what an auditor does per record).
        var verifyCount = (int)Math.Min(VerifySamples, leaves);
        var samples = new (ulong Index, byte[] Leaf, byte[][] Proof)[verifyCount];
        for (var i = 0; i < verifyCount; i++)
        {
            var index = (ulong)random.NextInt64(leaves);
            BinaryPrimitives.WriteInt64BigEndian(data, (long)index);
            samples[i] = (index, MerkleHash.LeafHash(data), tree.InclusionProof(index, size));
        }

        sw.Restart();
        foreach (var (index, leaf, proof) in samples)
        {
            MerkleVerifier.VerifyInclusion(leaf, index, size, proof, root);
        }

        result.VerifyCount = verifyCount;
        result.VerifyMeanUs = sw.Elapsed.TotalMicroseconds / verifyCount;

        // 4. Append, then the new root and the new leaf's inclusion proof, as a service answering each write
        //    with a receipt would. Continues the big tree.
        var appendCount = (int)Math.Min(AppendWithProofSamples, leaves);
        sw.Restart();
        for (var i = 0; i < appendCount; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(data, leaves + i);
            var index = tree.Append(data);
            tree.Root();
            tree.InclusionProof(index);
        }

        result.AppendWithProofCount = appendCount;
        result.AppendWithProofPerSecond = appendCount / sw.Elapsed.TotalSeconds;
        samples = null;
        tree = null;
        store = null;
        GC.Collect();

        // 5. Export replay: canonical records as the service would export them, plus its signed checkpoint.
        var export = new byte[records][];
        var origin = "bench.trustpool/audit";
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var writer = new MerkleTree();
        long exportBytes = 0;
        for (long i = 0; i < records; i++)
        {
            var record = new AuditRecord(AuditRecordTypes.ReportIssued, 1, start.AddMilliseconds(i), new JsonObject
            {
                ["host"] = "compute-" + (i % 5000).ToString("D4", CultureInfo.InvariantCulture),
                ["reportId"] = Guid.CreateVersion7(start.AddMilliseconds(i)).ToString(),
                ["trust"] = i % 97 == 0 ? "untrusted" : "trusted",
                ["pool"] = "gold",
                ["sequence"] = i,
            });
            export[i] = AuditRecordEncoding.Encode(record);
            exportBytes += export[i].Length;
            writer.Append(export[i]);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var note = new CheckpointSigner(origin, key).Sign(new Checkpoint(origin, writer.Size, writer.Root(), start)).Note;
        writer = null;
        GC.Collect();

        sw.Restart();
        var checkpoint = new CheckpointVerifier(origin, key, origin).Verify(note);
        var replay = new CompactRange();
        foreach (var bytes in export)
        {
            replay.AppendLeafData(bytes);
        }

        result.RootMatches = replay.Size == checkpoint.Size && replay.Root().AsSpan().SequenceEqual(checkpoint.RootHash);
        result.ReplaySeconds = sw.Elapsed.TotalSeconds;
        result.ExportBytes = exportBytes;

        sw.Restart();
        foreach (var bytes in export)
        {
            AuditRecordEncoding.Decode(bytes);
        }

        result.DecodeSeconds = sw.Elapsed.TotalSeconds;
        return result;
    }

    private sealed class AuditBenchResult
    {
        public long Leaves { get; init; }
        public double BuildSeconds { get; set; }
        public double AppendsPerSecond { get; set; }
        public long StoreBytes { get; set; }
        public int AppendWithProofCount { get; set; }
        public double AppendWithProofPerSecond { get; set; }
        public int ProofCount { get; set; }
        public double ProofMeanUs { get; set; }
        public double ProofP99Us { get; set; }
        public double ConsistencyMeanUs { get; set; }
        public int VerifyCount { get; set; }
        public double VerifyMeanUs { get; set; }
        public long Records { get; init; }
        public long ExportBytes { get; set; }
        public double ReplaySeconds { get; set; }
        public double DecodeSeconds { get; set; }
        public bool RootMatches { get; set; }
    }
}
