using System.Globalization;
using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Pools;
using TrustPool.Attestation.Verification;
using TrustPool.Evidence;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Evaluation;

/// <summary>
/// Judges verified evidence against pools (ARCHITECTURE.md "Trust semantics"). Any evidence fault makes the host
/// untrusted with every pool's "evidence" rule failed. Otherwise per pool: platform, os and hostUnique any-of,
/// software all-of, tags equal; a pool is trusted when every rule passed and one of them is a platform, os or
/// hostUnique rule that passed on verified PCRs (a measurement of what booted: tags are asserted by an operator); the
/// host is trusted when at least one pool is, and <see cref="TrustReport.TrustedPools"/> names them.
/// Only verified values are compared: PCRs the quote covered, and a UEFI log that replayed to them. Pure: no I/O.
/// </summary>
public static class Evaluator
{
    /// <summary>At most this many ImaEntryNotAllowed faults per software baseline; the rest are counted in one more.</summary>
    public const int MaxImaFaultsPerBaseline = 100;

    public static TrustReport Evaluate(HostContext host, VerifiedEvidence evidence, IReadOnlyList<Pool> pools, Func<string, Baseline?> baselineByName,
        DateTimeOffset now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(baselineByName);
        var run = new Run(evidence, baselineByName);
        var faults = new List<Fault>();
        var results = new List<PoolResult>();
        if (!evidence.IsVerified)
        {
            faults.AddRange(evidence.Faults);
            foreach (var pool in pools)
            {
                results.Add(new PoolResult(pool.Name, pool.Version, TrustLevel.Untrusted, [new RuleResult("evidence", false, null, null, evidence.Faults)]));
            }
        }
        else
        {
            foreach (var pool in pools)
            {
                results.Add(run.Judge(pool, host));
            }

            if (!results.Any(r => r.Trust == TrustLevel.Trusted))
            {
                faults.Add(new Fault(FaultCodes.NoPoolMatched, pools.Count == 0
                    ? "no pools are defined: a verified host is trusted only as a member of a pool"
                    : $"the evidence verified but matches none of {pools.Count} pool(s): {string.Join(", ", results.Select(r => r.Pool))}"));
            }
        }

        // Defence in depth (issue 13, hole 4): a pool counts only if a measurement rule of it passed, whatever Judge
        // said; per-pool verdicts (scheduler, pool traits, trustedHosts) read the same.
        for (var i = 0; i < results.Count; i++)
        {
            if (results[i].Trust == TrustLevel.Trusted && (!evidence.IsVerified || !HasPassedMeasurement(results[i])))
            {
                results[i] = results[i] with { Trust = TrustLevel.Untrusted };
            }
        }

        var trustedPools = results.Where(r => r.Trust == TrustLevel.Trusted).Select(r => r.Pool).ToList();
        var trusted = trustedPools.Count > 0;
        return new TrustReport
        {
            Id = Guid.NewGuid().ToString("N"),
            Host = host.Name,
            Trust = trusted ? TrustLevel.Trusted : TrustLevel.Untrusted,
            EkTrust = host.EkTrust,
            VerifiedAt = now,
            ValidFrom = now,
            ValidTo = now + validity,
            Faults = faults,
            Pools = results,
            TrustedPools = trustedPools,
            Pcrs = PcrMap(evidence.Pcrs),
            Nonce = evidence.Nonce is null ? null : Hex.Lower(evidence.Nonce),
            Clock = evidence.Clock is { } c ? new ReportClock(c.Clock, c.ResetCount, c.RestartCount, c.Safe) : null,
            Baselines = [.. run.Used.Values],
        };
    }

    /// <summary>The rules that judge a measurement of what booted: verified PCR values against a baseline.</summary>
    public static bool IsMeasurementRule(string rule) => rule is "platform" or "os" or "hostUnique";

    /// <summary>
    /// PCRs that software on a running host cannot set at will: 0-15 (static root of trust and boot chain; extend-only
    /// until reset) and 17-19 (dynamic root, Intel TXT: reset only by locality 4). PCR 16 (debug) and 23 (application)
    /// are resettable from locality 0 and 20-22 from localities 2-4 (TPM 2.0 PC Client Platform TPM Profile, PCR
    /// attributes), so a baseline that expects only those proves nothing about what booted.
    /// </summary>
    public static bool IsBootPcr(int index) => index is (>= 0 and <= 15) or (>= 17 and <= 19);

    private static bool HasPassedMeasurement(PoolResult r) => r.Rules.Any(rule => rule.Passed && IsMeasurementRule(rule.Rule));

    /// <summary>A report with trust Unknown and <paramref name="reason"/>: no evidence could be obtained or verified.</summary>
    public static TrustReport Unknown(HostContext host, Fault reason, DateTimeOffset now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(reason);
        return new TrustReport
        {
            Id = Guid.NewGuid().ToString("N"),
            Host = host.Name,
            Trust = TrustLevel.Unknown,
            EkTrust = host.EkTrust,
            VerifiedAt = now,
            ValidFrom = now,
            ValidTo = now + validity,
            Faults = [reason],
        };
    }

    private static SortedDictionary<string, IReadOnlyDictionary<string, string>> PcrMap(PcrValues? pcrs)
    {
        var map = new SortedDictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        if (pcrs is null)
        {
            return map;
        }

        foreach (var bank in pcrs.Banks)
        {
            var values = new SortedDictionary<string, string>(Comparer<string>.Create((a, b) =>
                int.Parse(a, CultureInfo.InvariantCulture).CompareTo(int.Parse(b, CultureInfo.InvariantCulture))));
            foreach (var (i, v) in pcrs.Bank(bank))
            {
                values[i.ToString(CultureInfo.InvariantCulture)] = Hex.Lower(v);
            }

            map[TpmHash.Name(bank)] = values;
        }

        return map;
    }

    /// <summary>One evaluation: the baselines looked up (reported in the report) and parsed reference logs, cached.</summary>
    private sealed class Run(VerifiedEvidence evidence, Func<string, Baseline?> baselineByName)
    {
        private readonly Dictionary<string, Baseline?> _baselines = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TcgEventLog?> _referenceLogs = new(StringComparer.Ordinal);

        public SortedDictionary<string, BaselineRef> Used { get; } = new(StringComparer.Ordinal);

        private Baseline? Lookup(string name)
        {
            if (!_baselines.TryGetValue(name, out var b))
            {
                _baselines[name] = b = baselineByName(name);
            }

            if (b is not null)
            {
                Used[name] = new BaselineRef(b.Name, b.Version, BaselineKinds.ToJson(b.Kind));
            }

            return b;
        }

        public PoolResult Judge(Pool pool, HostContext host)
        {
            var rules = new List<RuleResult>();
            var q = pool.Require;
            if (q.Platform.Count > 0)
            {
                rules.Add(AnyOf("platform", BaselineKind.Platform, q.Platform));
            }

            if (q.Os.Count > 0)
            {
                rules.Add(AnyOf("os", BaselineKind.Os, q.Os));
            }

            if (q.HostUnique.Count > 0)
            {
                rules.Add(AnyOf("hostUnique", BaselineKind.HostUnique, q.HostUnique));
            }

            foreach (var name in q.Software)
            {
                rules.Add(Software(name));
            }

            if (q.Tags.Count > 0)
            {
                rules.Add(Tags(q.Tags, host.Tags));
            }

            if (!q.RequiresMeasurement)
            {
                // A pool stored before this was refused at the API: tags are operator data, software says nothing of the boot.
                rules.Add(new RuleResult("measurement", false, null, null,
                [
                    new Fault(FaultCodes.PoolRequiresNoMeasurement,
                        $"pool {pool.Name} v{pool.Version} requires no platform, os or hostUnique baseline: without a verified measurement of what booted it trusts no host") { Detail = pool.Name },
                ]));
            }

            var trusted = rules.Count > 0 && rules.All(r => r.Passed) && rules.Any(r => r.Passed && IsMeasurementRule(r.Rule));
            return new PoolResult(pool.Name, pool.Version, trusted ? TrustLevel.Trusted : TrustLevel.Untrusted, rules);
        }

        /// <summary>
        /// Passes when one listed baseline matches every expected PCR. A listed name that does not exist fails the
        /// rule (BaselineMissing: a configuration error never widens trust). When none matches, the faults are
        /// reported against the first listed baseline that exists.
        /// </summary>
        private RuleResult AnyOf(string rule, BaselineKind kind, IReadOnlyList<string> names)
        {
            var missing = new List<Fault>();
            (Baseline Baseline, List<Fault> Faults)? first = null;
            Baseline? matched = null;
            foreach (var name in names)
            {
                if (Lookup(name) is not { } b)
                {
                    missing.Add(Missing(name));
                    continue;
                }

                var faults = b.Kind == kind ? MatchPcrs(b) : [KindMismatch(b, kind)];
                first ??= (b, faults);
                if (faults.Count == 0)
                {
                    matched ??= b;
                }
            }

            if (missing.Count > 0)
            {
                return new RuleResult(rule, false, first?.Baseline.Name, first?.Baseline.Version, [.. missing, .. matched is null ? first?.Faults ?? [] : []]);
            }

            if (matched is not null)
            {
                return new RuleResult(rule, true, matched.Name, matched.Version, []);
            }

            return new RuleResult(rule, false, first!.Value.Baseline.Name, first.Value.Baseline.Version, first.Value.Faults);
        }

        private List<Fault> MatchPcrs(Baseline b)
        {
            var faults = new List<Fault>();
            if (b.Pcrs.Count == 0)
            {
                faults.Add(new Fault(FaultCodes.BaselineEmpty, $"baseline {b.Name} v{b.Version} expects no PCR value: it cannot match anything") { Detail = b.Name });
                return faults;
            }

            if (!b.Pcrs.Any(p => IsBootPcr(p.Index)))
            {
                // Root on the host can reset these and extend them to any value: matching them proves nothing.
                faults.Add(new Fault(FaultCodes.BaselineMeasuresNoBoot,
                    $"baseline {b.Name} v{b.Version} expects only PCR {string.Join(",", b.Pcrs.Select(p => p.Index).Distinct().Order())}, which software on the host can reset: it proves nothing about what booted")
                {
                    Detail = b.Name,
                });
                return faults;
            }

            var mismatched = new List<(TpmAlgorithmId Bank, int Index, string Expected, string Actual)>();
            foreach (var p in b.Pcrs)
            {
                if (!TpmHash.TryParseName(p.Bank, out var bank) || !Hex.TryParse(p.Value, out var expectedBytes) || expectedBytes.Length != TpmHash.DigestSize(bank))
                {
                    faults.Add(new Fault(FaultCodes.BaselineInvalid, $"baseline {b.Name} has an invalid PCR entry {p.Bank}:{p.Index}") { Bank = p.Bank, Index = p.Index });
                    continue;
                }

                if (evidence.Pcrs is null || !evidence.Pcrs.TryGet(bank, p.Index, out var actual))
                {
                    faults.Add(new Fault(FaultCodes.PcrNotQuoted, $"PCR[{p.Index}] {TpmHash.Name(bank)} is expected by baseline {b.Name} but the quote does not cover it")
                    {
                        Bank = TpmHash.Name(bank),
                        Index = p.Index,
                        Expected = Hex.Lower(expectedBytes),
                    });
                    continue;
                }

                if (!actual.AsSpan().SequenceEqual(expectedBytes))
                {
                    mismatched.Add((bank, p.Index, Hex.Lower(expectedBytes), Hex.Lower(actual)));
                }
            }

            if (mismatched.Count == 0)
            {
                return faults;
            }

            var located = Locate(b, mismatched);
            foreach (var m in mismatched)
            {
                var e = located?.Mismatches.FirstOrDefault(x => x.Bank == m.Bank && x.Index == m.Index)?.FirstDivergingEvent;
                if (e is not null && !IsVerifiedEvent(e))
                {
                    e = null; // an event the quote does not bind is the host's word: never named in a fault
                }

                faults.Add(Fault.Pcr(FaultCodes.PcrMismatch, m.Bank, m.Index, m.Expected, m.Actual, e?.Number, e?.TypeName) with { Detail = b.Name });
            }

            return faults;
        }

        /// <summary>
        /// Names the first differing event, only from the host's log that replayed to its verified quote (an unverified
        /// log proves nothing), compared event by event with the baseline's reference log when it has one.
        /// </summary>
        private EventLogVerification? Locate(Baseline b, List<(TpmAlgorithmId Bank, int Index, string Expected, string Actual)> mismatched)
        {
            if (evidence.UefiLog is null)
            {
                return null;
            }

            var expected = new PcrValues();
            foreach (var m in mismatched)
            {
                expected.Set(m.Bank, m.Index, Convert.FromHexString(m.Expected));
            }

            return EventLogVerifier.Verify(evidence.UefiLog, expected, ReferenceLog(b));
        }

        private HashSet<TcgEvent>? _verifiedEvents;

        private bool IsVerifiedEvent(TcgEvent e) => (_verifiedEvents ??= [.. evidence.UefiVerifiedEvents]).Contains(e);

        private TcgEventLog? ReferenceLog(Baseline b)
        {
            var key = $"{b.Name}\n{b.Version}";
            if (!_referenceLogs.TryGetValue(key, out var log))
            {
                // The reference log only names events; a baseline whose log no longer parses still judges PCRs.
                _referenceLogs[key] = log = b.ReferenceUefiLog is { } bytes && TcgEventLog.TryParse(bytes, out var parsed, out _) ? parsed : null;
            }

            return log;
        }

        /// <summary>All-of, per software baseline: every judged IMA entry's path and file digest must be allowed.</summary>
        private RuleResult Software(string name)
        {
            if (Lookup(name) is not { } b)
            {
                return new RuleResult("software", false, null, null, [Missing(name)]);
            }

            if (b.Kind != BaselineKind.Software)
            {
                return new RuleResult("software", false, b.Name, b.Version, [KindMismatch(b, BaselineKind.Software)]);
            }

            if (evidence.Ima is null)
            {
                return new RuleResult("software", false, b.Name, b.Version,
                    [new Fault(FaultCodes.ImaLogMissing, $"software baseline {b.Name} requires an IMA log that replays to the quoted PCR 10; the evidence has none")]);
            }

            var allow = b.ImaAllowlist ?? new Dictionary<string, IReadOnlyList<string>>();
            var faults = new List<Fault>();
            var more = 0;
            foreach (var e in evidence.ImaEntries)
            {
                if (SoftwareRule.IsExempt(e, evidence))
                {
                    continue;
                }

                var digest = Hex.Lower(e.FileDigest);
                if (allow.TryGetValue(e.Path, out var digests) && digests.Any(d => string.Equals(StripAlgorithm(d), digest, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                if (faults.Count >= MaxImaFaultsPerBaseline)
                {
                    more++;
                    continue;
                }

                var alg = e.FileDigestAlgorithm ?? "sha1";
                faults.Add(e.IsBootAggregate
                    ? new Fault(FaultCodes.ImaBootAggregateMismatch,
                        $"IMA entry #{e.Index} boot_aggregate {alg}:{Fault.Short(digest)} is not the aggregate of the quoted PCR 0-9 / 0-7 " +
                        $"(only the first entry can be, and only when the quote covers those PCRs in its bank) and is not allowed by software baseline {b.Name}")
                    {
                        EventNumber = e.Index,
                        EventType = e.TemplateName,
                        Actual = digest,
                        Detail = e.Path,
                    }
                    : new Fault(FaultCodes.ImaEntryNotAllowed,
                    $"IMA entry #{e.Index} {e.Path} {alg}:{Fault.Short(digest)} is not allowed by software baseline {b.Name}")
                {
                    EventNumber = e.Index,
                    EventType = e.TemplateName,
                    Actual = digest,
                    Detail = e.Path,
                });
            }

            if (more > 0)
            {
                faults.Add(new Fault(FaultCodes.ImaEntryNotAllowed, $"... and {more} more IMA entries not allowed by software baseline {b.Name}") { Detail = "truncated" });
            }

            return new RuleResult("software", faults.Count == 0, b.Name, b.Version, faults);
        }

        private static string StripAlgorithm(string digest)
        {
            var colon = digest.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? digest : digest[(colon + 1)..];
        }

        private static RuleResult Tags(IReadOnlyDictionary<string, string> required, IReadOnlyDictionary<string, string> hostTags)
        {
            var faults = new List<Fault>();
            foreach (var (key, value) in required.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var actual = hostTags.TryGetValue(key, out var v) ? v : null;
                if (!string.Equals(actual, value, StringComparison.Ordinal))
                {
                    faults.Add(new Fault(FaultCodes.TagMismatch, actual is null ? $"tag {key} must be '{value}', the host has none" : $"tag {key} must be '{value}', the host has '{actual}'")
                    {
                        Detail = key,
                        Expected = value,
                        Actual = actual,
                    });
                }
            }

            // Tags are asserted by an operator (audited as host.tags-changed), never attested: say so wherever they are shown.
            return new RuleResult("tags", faults.Count == 0, null, null, faults) { TagSource = "asserted" };
        }

        private static Fault Missing(string name) =>
            new(FaultCodes.BaselineMissing, $"baseline {name} is required but does not exist") { Detail = name };

        private static Fault KindMismatch(Baseline b, BaselineKind expected) =>
            new(FaultCodes.BaselineKindMismatch, $"baseline {b.Name} is of kind {BaselineKinds.ToJson(b.Kind)}, the rule needs {BaselineKinds.ToJson(expected)}")
            {
                Detail = b.Name,
                Expected = BaselineKinds.ToJson(expected),
                Actual = BaselineKinds.ToJson(b.Kind),
            };
    }
}
