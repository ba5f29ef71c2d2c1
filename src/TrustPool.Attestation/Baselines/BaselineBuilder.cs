using TrustPool.Attestation.Verification;
using TrustPool.Evidence;
using TrustPool.Tpm;

namespace TrustPool.Attestation.Baselines;

/// <summary>Makes baselines from a reference host's verified evidence (never from unverified values).</summary>
public static class BaselineBuilder
{
    /// <summary>PCR 23: the application-specific PCR asset tags are measured into (TCG PC Client PFP 1.05, 3.3.4.1).</summary>
    public const int AssetTagPcr = 23;

    /// <summary>
    /// Derives expected values from VERIFIED evidence only. Platform / Os: the template's PCRs of that kind that the
    /// reference host quoted (every quoted bank). HostUnique: the template's platform+os PCRs that were quoted.
    /// Software: the allowlist from the verified IMA log. AssetTag: <paramref name="hostTags"/> (+ PCR 23 when quoted).
    /// </summary>
    /// <exception cref="InvalidOperationException">The evidence is not verified, or it has nothing of the kind asked for.</exception>
    public static Baseline FromEvidence(string name, BaselineKind kind, VerifiedEvidence evidence, string fromHost,
        IReadOnlyDictionary<string, string> hostTags, BaselineTemplate? template, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(hostTags);
        if (!evidence.IsVerified || evidence.Pcrs is null)
        {
            throw new InvalidOperationException($"a baseline is made from verified evidence only; this evidence has {evidence.Faults.Count} fault(s)");
        }

        if (!BaselineJson.IsValidName(name))
        {
            throw new ArgumentException($"baseline name '{name}' is not [A-Za-z0-9._-]{{1,64}}", nameof(name));
        }

        template ??= BaselineTemplate.UefiMeasuredBoot;
        var baseline = new Baseline { Name = name, Kind = kind, FromHost = fromHost, Created = now };
        switch (kind)
        {
            case BaselineKind.Platform:
            case BaselineKind.Os:
            case BaselineKind.HostUnique:
                var indices = kind == BaselineKind.HostUnique
                    ? [.. template.For(BaselineKind.Platform), .. template.For(BaselineKind.Os)]
                    : template.For(kind);
                var pcrs = Quoted(evidence, indices);
                if (pcrs.Count == 0)
                {
                    throw new InvalidOperationException($"the reference host's quote covers none of PCR {string.Join(',', indices)} ({template.Name} {BaselineKinds.ToJson(kind)})");
                }

                return baseline with
                {
                    Pcrs = pcrs,
                    // Null when the host's log was ignored (EventLogUnverified / EventLogBankNotQuoted): never a reference.
                    ReferenceUefiLog = evidence.UefiLogBytes,
                    Facts = FactsOf(evidence),
                    Description = $"{BaselineKinds.ToJson(kind)} values of {fromHost} ({template.Name})",
                };

            case BaselineKind.Software:
                if (evidence.Ima is null)
                {
                    throw new InvalidOperationException("the reference host's evidence has no verified IMA log");
                }

                var allow = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
                foreach (var e in evidence.ImaEntries)
                {
                    // Every verified entry of every template is listed by name and digest (ima-buf: the buffer's name and
                    // hash; boot_aggregate too, so a host whose quote lacks PCR 0-9 can still match it by value). A
                    // violation (all-zero template hash) is never allowlisted: it stays a fault on every host. Nor is an
                    // entry logged for another PCR than 10: the replay checks only the quoted PCR 10, so it is the
                    // host's word (the evaluator still judges such entries; it can only make a host less trusted).
                    if (e.IsViolation || e.PcrIndex != Evidence.Ima.ImaReplay.DefaultPcr)
                    {
                        continue;
                    }

                    if (!allow.TryGetValue(e.Path, out var set))
                    {
                        allow[e.Path] = set = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    set.Add(Hex.Lower(e.FileDigest));
                }

                return baseline with
                {
                    ImaAllowlist = allow.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)[.. kv.Value], StringComparer.Ordinal),
                    Description = $"IMA allowlist of {fromHost} ({allow.Count} files)",
                };

            case BaselineKind.AssetTag:
                return baseline with
                {
                    Tags = new SortedDictionary<string, string>(hostTags.ToDictionary(), StringComparer.Ordinal),
                    Pcrs = Quoted(evidence, [AssetTagPcr]),
                    Description = $"asset tags of {fromHost}",
                };

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown baseline kind");
        }
    }

    private static List<ExpectedPcr> Quoted(VerifiedEvidence evidence, IReadOnlyList<int> indices)
    {
        var result = new List<ExpectedPcr>();
        foreach (var bank in evidence.Pcrs!.Banks)
        {
            foreach (var i in indices.Distinct().Order())
            {
                if (evidence.Pcrs.TryGet(bank, i, out var v))
                {
                    result.Add(new ExpectedPcr(TpmHash.Name(bank), i, Hex.Lower(v)));
                }
            }
        }

        return result;
    }

    private static SortedDictionary<string, string> FactsOf(VerifiedEvidence evidence)
    {
        var facts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (evidence.UefiLogNotice is { } notice)
        {
            // The host sent a log that proves nothing: say so instead of quoting it.
            facts["uefiLog"] = $"unverified ({notice.Code}): {notice.Message}";
        }

        // Facts come only from events bound to the quote (VerifiedEvidence.UefiVerifiedEvents).
        if (evidence.Facts is not { } f)
        {
            return facts;
        }

        if (f.SecureBoot is { } sb)
        {
            facts["secureBoot"] = sb ? "true" : "false";
        }

        if (f.BootLoader is { } bl)
        {
            facts["bootLoader"] = bl.DevicePath;
        }

        if (f.KernelName is { } k)
        {
            facts["kernel"] = k;
        }

        if (f.KernelCommandLine is { } c)
        {
            facts["cmdline"] = c;
        }

        if (f.FirmwareVersions.Count > 0)
        {
            facts["firmware"] = string.Join("; ", f.FirmwareVersions);
        }

        return facts;
    }
}

/// <summary>Which IMA entries the software rule judges (shared by the builder and the evaluator).</summary>
internal static class SoftwareRule
{
    /// <summary>
    /// Every verified entry is judged by the allowlist, whatever its template (a template name is the host's word: an
    /// ima-buf entry is judged by its buffer name and digest like a file). The one exception is the kernel's
    /// boot_aggregate when EvidenceVerifier proved it against the quoted PCR 0-9 / 0-7: a name alone exempts nothing.
    /// </summary>
    public static bool IsExempt(Evidence.Ima.ImaEntry e, VerifiedEvidence evidence) => ReferenceEquals(e, evidence.ImaBootAggregate);
}
