using System.Security.Cryptography;
using System.Text;
using TrustPool.Attestation.Verification;
using TrustPool.Evidence;
using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Tests;

/// <summary>A TimeProvider whose monotonic clock only moves when told (the software TPM's clock follows it).</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ms = 1_000;

    public override long TimestampFrequency => 1000;

    public override long GetTimestamp() => _ms;

    public void Advance(TimeSpan by) => _ms += (long)by.TotalMilliseconds;
}

/// <summary>
/// A host for tests: a software TPM that boots <see cref="SimulatedBoot"/> (every event of the generated log is
/// extended into the TPM, as DemoCommand.Measure does), optionally runs IMA, and returns genuine quotes.
/// </summary>
internal sealed class SimulatedHost : IDisposable
{
    public static readonly PcrSelection BootPcrs = PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 10));
    public static readonly PcrSelection BootAndImaPcrs = PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 11));

    private readonly TpmKey _akKey;
    private readonly List<string> _imaLines = [];

    public SimulatedHost(SimulatedBoot? boot = null, string name = "host-a")
    {
        Name = name;
        Tpm = SoftwareTpm.CreateInMemory(Time);
        _akKey = Tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        Ak = AttestationKey.FromPublic(_akKey.Public);
        Boot(boot ?? new SimulatedBoot());
    }

    public string Name { get; }

    public ManualTime Time { get; } = new();

    public SoftwareTpm Tpm { get; }

    public AttestationKey Ak { get; }

    public byte[] UefiLog { get; private set; } = [];

    public byte[]? ImaLog => _imaLines.Count == 0 ? null : Encoding.UTF8.GetBytes(string.Join("", _imaLines));

    private void Boot(SimulatedBoot boot)
    {
        var builder = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), boot);
        foreach (var x in builder.Extends)
        {
            Tpm.ExtendPcr((int)x.PcrIndex, [.. x.Digests.Select(d => new TpmtHa(d.Key, d.Value))]);
        }

        UefiLog = builder.ToArray();
    }

    /// <summary>The kernel's ASCII line for an ima-ng entry of a file with these contents (template hash is SHA-1 of the template data).</summary>
    public static string ImaLine(string path, byte[] fileDigest)
    {
        // ima-ng template data (kernel ima_template_lib.c): d-ng "sha256:\0"+digest, n-ng path+NUL, each with a u32 LE length.
        byte[] dng = [.. "sha256:\0"u8, .. fileDigest];
        var nng = Encoding.UTF8.GetBytes(path + "\0");
        var data = new byte[8 + dng.Length + nng.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)dng.Length);
        dng.CopyTo(data, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4 + dng.Length), (uint)nng.Length);
        nng.CopyTo(data, 8 + dng.Length);
        return $"10 {Hex.Lower(SHA1.HashData(data))} ima-ng sha256:{Hex.Lower(fileDigest)} {path}\n";
    }

    /// <summary>IMA measures a file: one list entry, PCR 10 extended in both banks (BankHash convention).</summary>
    public void RunFile(string path, string contents) => AppendIma(ImaLine(path, SHA256.HashData(Encoding.UTF8.GetBytes(contents))));

    /// <summary>
    /// A line the host claims, PCR 10 extended with the template hash of <paramref name="templateData"/> (what the kernel
    /// really measured): a forged name over genuine bytes, which the parser may reject.
    /// </summary>
    public void AppendImaRaw(string line, byte[] templateData, int pcr = 10)
    {
        Tpm.ExtendPcr(pcr, [new TpmtHa(TpmAlgorithmId.Sha1, SHA1.HashData(templateData)), new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData(templateData))]);
        _imaLines.Add(line);
    }

    public void AppendIma(string line)
    {
        var entry = Evidence.Ima.ImaLog.ParseAscii(Encoding.UTF8.GetBytes(line)).Entries.Single();
        Tpm.ExtendPcr(10, [.. new[] { TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256 }.Select(b =>
            new TpmtHa(b, ImaReplay.Measurement(entry, b, TpmHash.DigestSize(b), ImaPcrConvention.BankHash)))]);
        _imaLines.Add(line);
    }

    public (EvidenceInput Input, TpmAttestation Quote) Attest(PcrSelection? selection = null, byte[]? nonce = null, TpmsClockInfo? previous = null)
    {
        selection ??= _imaLines.Count > 0 ? BootAndImaPcrs : BootPcrs;
        nonce ??= RandomNumberGenerator.GetBytes(32);
        var q = Tpm.Quote(_akKey.Handle, nonce, selection);
        var input = new EvidenceInput(Ak, nonce, selection, q.Attest, q.Signature, Tpm.ReadPcrs(selection), UefiLog, ImaLog, previous);
        return (input, q);
    }

    public VerifiedEvidence Verified(PcrSelection? selection = null)
    {
        var v = EvidenceVerifier.Verify(Attest(selection).Input);
        Assert.True(v.IsVerified, string.Join("; ", v.Faults));
        return v;
    }

    public void Dispose()
    {
        Ak.Dispose();
        Tpm.Dispose();
    }
}
