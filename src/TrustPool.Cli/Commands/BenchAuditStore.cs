using System.Diagnostics;
using System.Security.Cryptography;
using TrustPool.Audit.Merkle;
using TrustPool.Server.Audit;
using TrustPool.Server.Storage;

namespace TrustPool.Cli.Commands;

/// <summary>
/// The store half of <c>trustpool bench audit</c>: audit appends through the service's own store code
/// (<see cref="IStoreTransaction.Audit"/>, appended in the commit) with one transaction per
/// event, as the service writes an enrollment, a baseline change or a placement: begin, append the record (leaf row
/// plus the tree nodes it completes), commit. Target: ≥ 5,000/s on SQLite. Afterwards the log is checked: its root
/// equals an in-memory tree over the same leaf hashes and a sample of inclusion proofs read back from the store
/// verifies, so a fast but wrong store cannot pass.
/// </summary>
internal static class BenchAuditStore
{
    private const int ProofChecks = 200;

    public sealed record Result(string Provider, int Events, int Batch, double Seconds, double AppendsPerSecond, double P99Milliseconds, bool Verified);

    /// <param name="database">"sqlite:PATH" or "postgres:CONNSTR" (<see cref="TrustStore.OpenAsync"/>); the audit tables must be empty.</param>
    /// <param name="dataDirectory">Where a relative SQLite path resolves.</param>
    /// <param name="events">Records to append.</param>
    /// <param name="batch">Records per transaction (1: one event per transaction; the report writer batches).</param>
    public static async Task<Result> MeasureAsync(string database, string dataDirectory, int events, int batch)
    {
        await using var store = await TrustStore.OpenAsync(database, dataDirectory);
        await using (var check = await store.BeginAsync())
        {
            if (await check.GetAuditSizeAsync() != 0)
            {
                throw new CliUsageException("--database: the audit log there is not empty; benchmark on a fresh database");
            }
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var log = new AuditLog(key, TimeProvider.System, TimeSpan.FromSeconds(10));
        var expected = new MerkleTree();
        var latencies = new double[(events + batch - 1) / batch];
        var records = new List<TrustPool.Audit.Records.AuditRecord>(batch);
        var start = DateTimeOffset.UtcNow;
        var sw = Stopwatch.StartNew();
        for (int i = 0, t = 0; i < events; t++)
        {
            records.Clear();
            for (var j = 0; j < batch && i < events; j++, i++)
            {
                records.Add(AuditRecords.ReportIssued(SyntheticReport(i, start)));
            }

            var t0 = Stopwatch.GetTimestamp();
            await using (var tx = await store.BeginAsync())
            {
                tx.Audit(records);
                foreach (var entry in await tx.CommitAsync())
                {
                    expected.AppendLeafHash(entry.LeafHash);
                }
            }

            latencies[t] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        var seconds = sw.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        var verified = await VerifyAsync(store, log, expected, events);
        return new Result(database[..database.IndexOf(':', StringComparison.Ordinal)], events, batch, seconds, events / seconds,
            latencies[Math.Min(latencies.Length - 1, (int)(latencies.Length * 0.99))], verified);
    }

    private static ReportRecord SyntheticReport(int i, DateTimeOffset start)
    {
        var at = start.AddMilliseconds(i);
        // A compact JWS is about 1.5 KB; only its SHA-256 goes into the record, so its content does not matter here.
        return new ReportRecord(Guid.CreateVersion7(at).ToString(), $"compute-{i % 5000:D4}", i % 97 == 0 ? "untrusted" : "trusted",
            at, at, at.AddMinutes(10), $"bench.{i}.jws", "{}");
    }

    /// <summary>The stored tree's root equals the in-memory one and sampled proofs from the store verify against it.</summary>
    private static async Task<bool> VerifyAsync(ITrustStore store, AuditLog log, MerkleTree expected, int events)
    {
        var checkpoint = await log.CheckpointAsync(store, CancellationToken.None);
        var root = expected.Root();
        if (checkpoint.Size != events)
        {
            return false;
        }

        var random = new Random(11);
        for (var k = 0; k < ProofChecks; k++)
        {
            var leaf = random.NextInt64(events);
            var (leafHash, proof) = await log.InclusionProofAsync(store, leaf, events, CancellationToken.None);
            if (!MerkleVerifier.TryVerifyInclusion(leafHash, (ulong)leaf, (ulong)events, proof, root, out _))
            {
                return false;
            }
        }

        return true;
    }
}
