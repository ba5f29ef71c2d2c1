using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Structures;

/// <summary>TPMS_CLOCK_INFO (TPM 2.0 Part 2, 10.11.1). resetCount/restartCount are obfuscated for keys outside the endorsement/storage hierarchies.</summary>
public readonly record struct TpmsClockInfo(ulong Clock, uint ResetCount, uint RestartCount, bool Safe)
{
    internal static TpmsClockInfo Read(ref TpmReader r)
    {
        var clock = r.ReadUInt64("TPMS_CLOCK_INFO.clock");
        var reset = r.ReadUInt32("TPMS_CLOCK_INFO.resetCount");
        var restart = r.ReadUInt32("TPMS_CLOCK_INFO.restartCount");
        var at = r.Offset;
        var safe = r.ReadByte("TPMS_CLOCK_INFO.safe");
        if (safe > 1)
        {
            throw new TpmFormatException("TPMS_CLOCK_INFO.safe", at, $"TPMI_YES_NO value {safe}");
        }

        return new TpmsClockInfo(clock, reset, restart, safe == 1);
    }

    internal void Write(TpmWriter w) =>
        w.WriteUInt64(Clock).WriteUInt32(ResetCount).WriteUInt32(RestartCount).WriteByte(Safe ? (byte)1 : (byte)0);
}

/// <summary>TPMU_ATTEST (TPM 2.0 Part 2, 10.12.11): what a TPMS_ATTEST attests.</summary>
public abstract record AttestedInfo
{
    internal abstract void Write(TpmWriter w);
}

/// <summary>TPMS_QUOTE_INFO (Part 2, 10.12.4).</summary>
public sealed record QuoteInfo(PcrSelection PcrSelect, byte[] PcrDigest) : AttestedInfo
{
    internal override void Write(TpmWriter w)
    {
        PcrSelect.Write(w);
        w.WriteSized(PcrDigest);
    }
}

/// <summary>TPMS_CERTIFY_INFO (Part 2, 10.12.3).</summary>
public sealed record CertifyInfo(byte[] Name, byte[] QualifiedName) : AttestedInfo
{
    internal override void Write(TpmWriter w) => w.WriteSized(Name).WriteSized(QualifiedName);
}

/// <summary>TPMS_NV_CERTIFY_INFO (Part 2, 10.12.8).</summary>
public sealed record NvCertifyInfo(byte[] IndexName, ushort Offset, byte[] NvContents) : AttestedInfo
{
    internal override void Write(TpmWriter w) => w.WriteSized(IndexName).WriteUInt16(Offset).WriteSized(NvContents);
}

/// <summary>TPMS_NV_DIGEST_CERTIFY_INFO (Part 2, 10.12.9).</summary>
public sealed record NvDigestCertifyInfo(byte[] IndexName, byte[] NvDigest) : AttestedInfo
{
    internal override void Write(TpmWriter w) => w.WriteSized(IndexName).WriteSized(NvDigest);
}

/// <summary>TPMS_CREATION_INFO (Part 2, 10.12.7).</summary>
public sealed record CreationInfo(byte[] ObjectName, byte[] CreationHash) : AttestedInfo
{
    internal override void Write(TpmWriter w) => w.WriteSized(ObjectName).WriteSized(CreationHash);
}

/// <summary>
/// TPMS_ATTEST (TPM 2.0 Part 2, 10.12.12). Unverified until a verifier has checked the signature over the
/// exact bytes it was read from; the magic is not checked here so that the verifier can report it by name.
/// </summary>
public sealed record TpmsAttest(
    uint Magic,
    TpmStructureTag Type,
    byte[] QualifiedSigner,
    byte[] ExtraData,
    TpmsClockInfo ClockInfo,
    ulong FirmwareVersion,
    AttestedInfo Attested)
{
    /// <summary>Parses a complete TPMS_ATTEST (no TPM2B size prefix, as in tpm2_quote's quote.msg).</summary>
    public static TpmsAttest Parse(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var a = Read(ref r);
        r.ThrowIfNotEmpty("TPMS_ATTEST");
        return a;
    }

    public static TpmsAttest Read(ref TpmReader r)
    {
        var magic = r.ReadUInt32("TPMS_ATTEST.magic");
        var typeAt = r.Offset;
        var type = (TpmStructureTag)r.ReadUInt16("TPMS_ATTEST.type");
        var signer = r.ReadSizedBytes("TPMS_ATTEST.qualifiedSigner", TpmLimits.MaxNameSize).ToArray();
        var extra = r.ReadSizedBytes("TPMS_ATTEST.extraData", TpmLimits.MaxDataSize).ToArray();
        var clock = TpmsClockInfo.Read(ref r);
        var fw = r.ReadUInt64("TPMS_ATTEST.firmwareVersion");
        AttestedInfo attested = type switch
        {
            TpmStructureTag.AttestQuote => new QuoteInfo(
                PcrSelection.Read(ref r),
                r.ReadSizedBytes("TPMS_QUOTE_INFO.pcrDigest", TpmLimits.MaxDigestSize).ToArray()),
            TpmStructureTag.AttestCertify => new CertifyInfo(
                r.ReadSizedBytes("TPMS_CERTIFY_INFO.name", TpmLimits.MaxNameSize).ToArray(),
                r.ReadSizedBytes("TPMS_CERTIFY_INFO.qualifiedName", TpmLimits.MaxNameSize).ToArray()),
            TpmStructureTag.AttestNv => new NvCertifyInfo(
                r.ReadSizedBytes("TPMS_NV_CERTIFY_INFO.indexName", TpmLimits.MaxNameSize).ToArray(),
                r.ReadUInt16("TPMS_NV_CERTIFY_INFO.offset"),
                r.ReadSizedBytes("TPMS_NV_CERTIFY_INFO.nvContents", TpmLimits.MaxNvBufferSize).ToArray()),
            TpmStructureTag.AttestNvDigest => new NvDigestCertifyInfo(
                r.ReadSizedBytes("TPMS_NV_DIGEST_CERTIFY_INFO.indexName", TpmLimits.MaxNameSize).ToArray(),
                r.ReadSizedBytes("TPMS_NV_DIGEST_CERTIFY_INFO.nvDigest", TpmLimits.MaxDigestSize).ToArray()),
            TpmStructureTag.AttestCreation => new CreationInfo(
                r.ReadSizedBytes("TPMS_CREATION_INFO.objectName", TpmLimits.MaxNameSize).ToArray(),
                r.ReadSizedBytes("TPMS_CREATION_INFO.creationHash", TpmLimits.MaxDigestSize).ToArray()),
            _ => throw new TpmFormatException("TPMS_ATTEST.type", typeAt, $"unsupported attestation type 0x{(ushort)type:x4}"),
        };
        return new TpmsAttest(magic, type, signer, extra, clock, fw, attested);
    }

    public void Write(TpmWriter w)
    {
        w.WriteUInt32(Magic).WriteUInt16((ushort)Type).WriteSized(QualifiedSigner).WriteSized(ExtraData);
        ClockInfo.Write(w);
        w.WriteUInt64(FirmwareVersion);
        Attested.Write(w);
    }

    public byte[] ToBytes()
    {
        var w = new TpmWriter(128);
        Write(w);
        return w.ToArray();
    }
}
