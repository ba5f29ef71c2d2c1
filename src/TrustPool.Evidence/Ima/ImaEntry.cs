using System.Buffers.Binary;
using System.Text;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Ima;

/// <summary>
/// One entry of a Linux IMA measurement list. Template data is kept in the kernel's binary form (the
/// bytes the template hash covers), whichever list format it came from. Unverified until the list
/// replays to a quoted PCR.
/// </summary>
public sealed class ImaEntry
{
    /// <summary>IMA_EVENT_NAME_LEN_MAX + 1: the legacy "ima" template hashes the name zero-padded to this size.</summary>
    public const int LegacyNameLength = 256;

    internal ImaEntry(int index, int lineNumber, long offset, uint pcrIndex, byte[] templateHash, string templateName,
        byte[] templateData, string? fileDigestAlgorithm, byte[] fileDigest, string path, byte[]? signature, byte[]? buffer)
    {
        Index = index;
        LineNumber = lineNumber;
        Offset = offset;
        PcrIndex = pcrIndex;
        TemplateHash = templateHash;
        TemplateName = templateName;
        TemplateData = templateData;
        FileDigestAlgorithm = fileDigestAlgorithm;
        FileDigest = fileDigest;
        Path = path;
        Signature = signature;
        Buffer = buffer;
    }

    /// <summary>0-based position in the list given to the parser.</summary>
    public int Index { get; }

    /// <summary>1-based line of an ASCII list; for a binary list the 1-based entry number.</summary>
    public int LineNumber { get; }

    /// <summary>Byte offset of the entry (ASCII: of its line).</summary>
    public long Offset { get; }

    public uint PcrIndex { get; }

    /// <summary>The logged template hash (SHA-1 in both kernel list formats).</summary>
    public byte[] TemplateHash { get; }

    public string TemplateName { get; }

    /// <summary>The template fields as hashed: for non-"ima" templates each field is a u32 length and its bytes.</summary>
    public byte[] TemplateData { get; }

    /// <summary>"sha1", "sha256", ... of the d-ng field; null for the legacy "ima" template (always SHA-1 there).</summary>
    public string? FileDigestAlgorithm { get; }

    public byte[] FileDigest { get; }

    /// <summary>The n-ng / n field: the file path, or the buffer name for ima-buf (e.g. ".ima", "kexec-cmdline").</summary>
    public string Path { get; }

    /// <summary>ima-sig signature (may be empty).</summary>
    public byte[]? Signature { get; }

    /// <summary>ima-buf buffer (its digest was checked to be the hash of it when parsed).</summary>
    public byte[]? Buffer { get; }

    /// <summary>A measurement violation: the kernel logs a zero template hash and extends 0xFF.. instead.</summary>
    public bool IsViolation => TemplateHash.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    /// <summary>
    /// The entry CLAIMS to be the kernel's boot_aggregate: any file can be measured under that name. Only a check of
    /// its digest against quoted PCR 0-9 / 0-7 (ImaBootAggregate) proves it; the name alone never exempts it.
    /// </summary>
    public bool IsBootAggregate => Path == "boot_aggregate";

    /// <summary>The template hash for a bank's algorithm: H(template data), or for "ima" H(digest || name padded to 256).</summary>
    public byte[] ComputeTemplateHash(TpmAlgorithmId alg)
    {
        if (TemplateName == "ima")
        {
            var buf = new byte[20 + LegacyNameLength];
            FileDigest.AsSpan(0, Math.Min(20, FileDigest.Length)).CopyTo(buf);
            var name = Encoding.UTF8.GetBytes(Path);
            name.AsSpan(0, Math.Min(name.Length, LegacyNameLength - 1)).CopyTo(buf.AsSpan(20));
            return TpmHash.Hash(alg, buf);
        }

        return TpmHash.Hash(alg, TemplateData);
    }

    /// <summary>True when the logged template hash equals the recomputed one (violations are not checked).</summary>
    public bool TemplateHashMatches()
    {
        var alg = TemplateHash.Length switch
        {
            20 => TpmAlgorithmId.Sha1,
            32 => TpmAlgorithmId.Sha256,
            48 => TpmAlgorithmId.Sha384,
            64 => TpmAlgorithmId.Sha512,
            _ => TpmAlgorithmId.Error,
        };
        return alg != TpmAlgorithmId.Error && ComputeTemplateHash(alg).AsSpan().SequenceEqual(TemplateHash);
    }

    internal static byte[] BuildTemplateData(string? algorithm, ReadOnlySpan<byte> digest, string path, byte[]? signature, byte[]? buffer, string template)
    {
        // d-ng: "<algo>:\0" + digest; n-ng: path + NUL; then sig / buf (kernel ima_template_lib.c).
        var dng = algorithm is null ? digest.ToArray() : [.. Encoding.ASCII.GetBytes(algorithm + ":\0"), .. digest];
        var nng = Encoding.UTF8.GetBytes(path + "\0");
        var fields = new List<byte[]> { dng, nng };
        if (template == "ima-sig")
        {
            fields.Add(signature ?? []);
        }
        else if (template == "ima-buf")
        {
            fields.Add(buffer ?? []);
        }

        var result = new byte[fields.Sum(f => 4 + f.Length)];
        var at = 0;
        foreach (var f in fields)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(at), (uint)f.Length);
            f.CopyTo(result, at + 4);
            at += 4 + f.Length;
        }

        return result;
    }

    public override string ToString() => $"entry {Index} (line {LineNumber}, {TemplateName}, {Path})";
}
