using TrustPool.Tpm.Structures;
using TrustPool.Evidence.Replay;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Ima;

/// <summary>How the kernel extended a non-SHA-1 bank.</summary>
public enum ImaPcrConvention
{
    /// <summary>Kernel 5.8+: each bank gets the template data hashed with the bank's algorithm; violations extend 0xFF...</summary>
    BankHash,

    /// <summary>Older kernels: every bank gets the SHA-1 template hash, zero-padded to the bank's size (violations: 20 bytes of 0xFF, padded).</summary>
    Sha1Padded,
}

/// <summary>An entry whose logged template hash is not the hash of its template data: the entry was altered.</summary>
public sealed record ImaTemplateHashMismatch(int Index, int LineNumber, string Path, byte[] Logged, byte[] Computed)
{
    public override string ToString() => $"line {LineNumber} ({Path}): template hash {Hex.Lower(Logged)} does not match its data ({Hex.Lower(Computed)})";
}

/// <summary>
/// Where an incremental replay stands: how many entries (from the start of the kernel's list) are
/// accounted for, and the running PCR values per bank. Saved between quotes so a long list is not
/// re-read every time.
/// </summary>
public sealed record ImaReplayState(int EntryCount, IReadOnlyDictionary<TpmAlgorithmId, IReadOnlyDictionary<uint, byte[]>> Pcrs)
{
    public static ImaReplayState Initial { get; } = new(0, new Dictionary<TpmAlgorithmId, IReadOnlyDictionary<uint, byte[]>>());

    public byte[]? Get(TpmAlgorithmId bank, uint pcr) =>
        Pcrs.TryGetValue(bank, out var b) && b.TryGetValue(pcr, out var v) ? v : null;
}

/// <summary>Options of <see cref="ImaReplay.Replay"/>.</summary>
public sealed record ImaReplayOptions
{
    public ImaPcrConvention Convention { get; init; } = ImaPcrConvention.BankHash;

    /// <summary>Continue from a saved state instead of from zero.</summary>
    public ImaReplayState? Resume { get; init; }

    /// <summary>Absolute number (in the kernel's list) of the first entry of the log given: the agent's imaOffset.</summary>
    public int FirstEntryNumber { get; init; }

    /// <summary>Quoted PCR10 per bank: replay stops at the entry where every given bank reaches its quoted value.</summary>
    public IReadOnlyDictionary<TpmAlgorithmId, byte[]>? QuotedPcr10 { get; init; }
}

/// <summary>Result of an IMA replay.</summary>
public sealed class ImaReplayResult
{
    internal ImaReplayResult(ImaReplayState state, PcrValues pcrs, IReadOnlyList<ImaTemplateHashMismatch> mismatches, int violations,
        int replayed, int afterQuote, bool? quotedReached)
    {
        State = state;
        Pcrs = pcrs;
        TemplateHashMismatches = mismatches;
        Violations = violations;
        EntriesReplayed = replayed;
        EntriesAfterQuote = afterQuote;
        QuotedReached = quotedReached;
    }

    /// <summary>The state to resume from at the next quote.</summary>
    public ImaReplayState State { get; }

    /// <summary>Running values of every PCR the entries used (normally only 10).</summary>
    public PcrValues Pcrs { get; }

    public IReadOnlyList<ImaTemplateHashMismatch> TemplateHashMismatches { get; }

    public int Violations { get; }

    public int EntriesReplayed { get; }

    /// <summary>Entries after the point where the quoted value was reached (appended after the quote).</summary>
    public int EntriesAfterQuote { get; }

    /// <summary>Null without a quoted value; otherwise whether the replay reached it.</summary>
    public bool? QuotedReached { get; }
}

/// <summary>Replays an IMA measurement list into PCR values (kernel ima_pcr_extend).</summary>
public static class ImaReplay
{
    public const uint DefaultPcr = 10;

    public static ImaReplayResult Replay(ImaLog log, IReadOnlyList<TpmAlgorithmId> banks, ImaReplayOptions? options = null)
    {
        options ??= new ImaReplayOptions();
        foreach (var b in banks)
        {
            if (!TpmHash.IsSupported(b))
            {
                throw new ArgumentException($"bank {TpmHash.Name(b)} is not supported", nameof(banks));
            }
        }

        var resume = options.Resume ?? ImaReplayState.Initial;
        var skip = resume.EntryCount - options.FirstEntryNumber;
        if (skip < 0)
        {
            throw new ArgumentException($"the saved state covers {resume.EntryCount} entries but the log starts at entry {options.FirstEntryNumber}: entries are missing", nameof(options));
        }

        var state = banks.ToDictionary(b => b, b => resume.Pcrs.TryGetValue(b, out var p) ? p.ToDictionary(kv => kv.Key, kv => kv.Value) : new Dictionary<uint, byte[]>());
        var mismatches = new List<ImaTemplateHashMismatch>();
        var violations = 0;
        var replayed = 0;
        var target = options.QuotedPcr10;
        bool? reached = target is null ? null : Reached(state, target);
        var consumed = Math.Min(skip, log.Entries.Count);
        for (var i = skip; i < log.Entries.Count && reached != true; i++)
        {
            var e = log.Entries[i];
            if (e.IsViolation)
            {
                violations++;
            }
            else if (!e.TemplateHashMatches())
            {
                mismatches.Add(new ImaTemplateHashMismatch(e.Index, e.LineNumber, e.Path, e.TemplateHash, e.ComputeTemplateHash(TpmAlgorithmId.Sha1)));
            }

            foreach (var bank in banks)
            {
                var size = TpmHash.DigestSize(bank);
                var pcrs = state[bank];
                if (!pcrs.TryGetValue(e.PcrIndex, out var current))
                {
                    current = new byte[size];
                }

                pcrs[e.PcrIndex] = EventLogReplay.Extend(bank, current, Measurement(e, bank, size, options.Convention));
            }

            replayed++;
            consumed = i + 1;
            if (target is not null)
            {
                reached = Reached(state, target);
            }
        }

        var pcrValues = new PcrValues();
        foreach (var (bank, pcrs) in state)
        {
            foreach (var (index, value) in pcrs)
            {
                pcrValues.Set(bank, (int)index, value);
            }
        }

        var newState = new ImaReplayState(options.FirstEntryNumber + consumed,
            state.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<uint, byte[]>)kv.Value.ToDictionary(p => p.Key, p => p.Value)));
        return new ImaReplayResult(newState, pcrValues, mismatches, violations, replayed, log.Entries.Count - consumed, reached);
    }

    /// <summary>What the kernel extends for one entry into one bank.</summary>
    public static byte[] Measurement(ImaEntry e, TpmAlgorithmId bank, int size, ImaPcrConvention convention)
    {
        if (bank == TpmAlgorithmId.Sha1 || convention == ImaPcrConvention.Sha1Padded)
        {
            var m = new byte[size];
            if (e.IsViolation)
            {
                m.AsSpan(0, Math.Min(20, size)).Fill(0xFF);
            }
            else
            {
                e.TemplateHash.AsSpan(0, Math.Min(e.TemplateHash.Length, size)).CopyTo(m);
            }

            return m;
        }

        if (e.IsViolation)
        {
            var ff = new byte[size];
            ff.AsSpan().Fill(0xFF);
            return ff;
        }

        return e.ComputeTemplateHash(bank);
    }

    private static bool Reached(Dictionary<TpmAlgorithmId, Dictionary<uint, byte[]>> state, IReadOnlyDictionary<TpmAlgorithmId, byte[]> target)
    {
        foreach (var (bank, value) in target)
        {
            if (!state.TryGetValue(bank, out var pcrs))
            {
                return false;
            }

            var current = pcrs.TryGetValue(DefaultPcr, out var v) ? v : new byte[value.Length];
            if (!current.AsSpan().SequenceEqual(value))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>boot_aggregate: the first IMA entry, a hash over PCR 0-7 (kernels before 5.8) or 0-9 (5.8+ with TPM 2.0).</summary>
public static class ImaBootAggregate
{
    /// <summary>H(PCR0 || ... || PCR<paramref name="lastPcr"/>) with the bank's algorithm; missing PCRs count as zeros.</summary>
    public static byte[] Compute(TpmAlgorithmId bank, IReadOnlyDictionary<int, byte[]> pcrs, int lastPcr)
    {
        var size = TpmHash.DigestSize(bank);
        var buffer = new byte[size * (lastPcr + 1)];
        for (var i = 0; i <= lastPcr; i++)
        {
            if (pcrs.TryGetValue(i, out var v))
            {
                v.CopyTo(buffer, i * size);
            }
        }

        return TpmHash.Hash(bank, buffer);
    }

    /// <summary>Which PCR range (7 or 9) reproduces the boot_aggregate entry's digest, or null when none does.</summary>
    public static int? Match(ImaEntry bootAggregate, TpmAlgorithmId bank, IReadOnlyDictionary<int, byte[]> pcrs)
    {
        foreach (var last in new[] { 9, 7 })
        {
            if (Compute(bank, pcrs, last).AsSpan().SequenceEqual(bootAggregate.FileDigest))
            {
                return last;
            }
        }

        return null;
    }
}
