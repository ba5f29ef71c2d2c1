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
                foreach (var e in evidence.Ima.Entries)
                {
                    // A violation (all-zero template hash) is never allowlisted: it stays a fault on every host.
                    if (!SoftwareRule.IsChecked(e) || e.IsViolation)
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
    /// boot_aggregate (a hash of PCR 0-9, judged by the platform and os rules) and ima-buf entries (buffers such as
    /// keyrings, not files) are not files to allowlist; every other entry, violations included, is judged.
    /// </summary>
    public static bool IsChecked(Evidence.Ima.ImaEntry e) => !e.IsBootAggregate && e.Buffer is null;
}
