using TrustPool.Evidence.Replay;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Ima;

/// <summary>
/// The IMA templates TrustPool appraises and their exact field layouts (kernel security/integrity/ima/ima_template.c,
/// builtin_templates). The template name is NOT covered by the template hash: a host can write any name over any
/// template data. So a name is only believed when the data parses exactly as that template, and no template is a way
/// around the software allowlist (see the software rule in TrustPool.Attestation).
/// </summary>
public static class ImaTemplates
{
    /// <summary>Field name of every layout fault in a binary list (the template's field count or a field's content).</summary>
    public const string LayoutField = "ima.template_layout";

    /// <summary>Field name of a template name that is not one of <see cref="Known"/> (binary list).</summary>
    public const string NameField = "ima.template_name";

    /// <summary>The templates parsed, with their field layout as the kernel writes it.</summary>
    public static IReadOnlyDictionary<string, string> Known { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ima"] = "d|n",
        ["ima-ng"] = "d-ng|n-ng",
        ["ima-sig"] = "d-ng|n-ng|sig",
        ["ima-buf"] = "d-ng|n-ng|buf",
        ["ima-modsig"] = "d-ng|n-ng|sig|d-modsig|modsig",
    };

    /// <summary>Number of fields of a template in its length-prefixed form; null for an unknown name (and for "ima", which has its own layout).</summary>
    public static int? FieldCount(string template) => template is "ima" || !Known.TryGetValue(template, out var layout) ? null : layout.Split('|').Length;

    /// <summary>True when <paramref name="e"/> says an entry's template name does not match its bytes (not merely truncated or garbled).</summary>
    public static bool IsTemplateFault(EventLogFormatException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Field is LayoutField or NameField || e.Field.EndsWith(": template-name", StringComparison.Ordinal)
            || e.Field.EndsWith(": template-layout", StringComparison.Ordinal);
    }

    /// <summary>
    /// Digest sizes of the kernel's hash_algo_name[] (include/crypto/hash_info.h) that IMA can use: a d-ng digest of any
    /// other length, or of an algorithm not listed, is not what the kernel writes.
    /// </summary>
    private static readonly Dictionary<string, int> s_digestSizes = new(StringComparer.Ordinal)
    {
        ["md4"] = 16, ["md5"] = 16, ["sha1"] = 20, ["rmd160"] = 20, ["sha256"] = 32, ["sha384"] = 48, ["sha512"] = 64, ["sha224"] = 28,
        ["rmd128"] = 16, ["rmd256"] = 32, ["rmd320"] = 40, ["wp256"] = 32, ["wp384"] = 48, ["wp512"] = 64, ["tgr128"] = 16, ["tgr160"] = 20,
        ["tgr192"] = 24, ["sm3"] = 32, ["sm3-256"] = 32, ["sm3_256"] = 32, ["streebog256"] = 32, ["streebog512"] = 64,
        ["sha3-256"] = 32, ["sha3-384"] = 48, ["sha3-512"] = 64,
    };

    /// <summary>Digest size of an IMA hash algorithm name, or null when the kernel has no such algorithm.</summary>
    public static int? DigestSize(string algorithm) => s_digestSizes.TryGetValue(algorithm, out var n) ? n : null;

    /// <summary>The TPM algorithm of an IMA hash name when TrustPool can compute it (sha1, sha256, sha384, sha512, sm3_256).</summary>
    public static TpmAlgorithmId ToTpmAlgorithm(string? algorithm) => algorithm switch
    {
        null or "sha1" => TpmAlgorithmId.Sha1,
        "sha256" => TpmAlgorithmId.Sha256,
        "sha384" => TpmAlgorithmId.Sha384,
        "sha512" => TpmAlgorithmId.Sha512,
        "sm3" or "sm3-256" or "sm3_256" => TpmAlgorithmId.Sm3_256,
        _ => TpmAlgorithmId.Error,
    };

    /// <summary>
    /// Checks what parsing alone cannot: the d-ng digest has its algorithm's size, and an ima-buf entry's digest is the
    /// hash of its buffer (kernel ima_measure_critical_data / process_buffer_measurement). Violations are exempt: the
    /// kernel zeroes their digest. Throws a layout fault naming <paramref name="field"/> and <paramref name="offset"/>.
    /// </summary>
    internal static void CheckContents(ImaEntry e, string field, long offset)
    {
        if (e.FileDigestAlgorithm is { } alg)
        {
            if (DigestSize(alg) is not { } size)
            {
                throw new EventLogFormatException(field, offset, $"{e.TemplateName} digest algorithm '{Short(alg)}' is not an IMA hash algorithm");
            }

            if (e.FileDigest.Length != size)
            {
                throw new EventLogFormatException(field, offset, $"{e.TemplateName} {alg} digest has {e.FileDigest.Length} bytes, {size} expected");
            }
        }

        if (e.TemplateName != "ima-buf" || e.IsViolation)
        {
            return;
        }

        var bank = ToTpmAlgorithm(e.FileDigestAlgorithm);
        if (!BankHash.IsSupported(bank))
        {
            throw new EventLogFormatException(field, offset, $"ima-buf digest algorithm '{e.FileDigestAlgorithm}' cannot be checked against its buffer");
        }

        if (!BankHash.Hash(bank, e.Buffer ?? []).AsSpan().SequenceEqual(e.FileDigest))
        {
            throw new EventLogFormatException(field, offset, $"ima-buf entry '{Short(e.Path)}': its digest is not the {e.FileDigestAlgorithm} of its buffer (not an ima-buf record)");
        }
    }

    private static string Short(string s) => s.Length > 40 ? s[..40] + "..." : s;
}
