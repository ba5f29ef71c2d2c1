using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Structures;

/// <summary>TPMA_NV (TPM 2.0 Part 2, 13.4). Bits 4-7 hold TPM_NT (the index type; 0 = ordinary).</summary>
[Flags]
public enum TpmNvAttributes : uint
{
    None = 0,
    PpWrite = 1u << 0,
    OwnerWrite = 1u << 1,
    AuthWrite = 1u << 2,
    PolicyWrite = 1u << 3,
    PolicyDelete = 1u << 10,
    WriteLocked = 1u << 11,
    WriteAll = 1u << 12,
    WriteDefine = 1u << 13,
    WriteStClear = 1u << 14,
    GlobalLock = 1u << 15,
    PpRead = 1u << 16,
    OwnerRead = 1u << 17,
    AuthRead = 1u << 18,
    PolicyRead = 1u << 19,
    NoDA = 1u << 25,
    Orderly = 1u << 26,
    ClearStClear = 1u << 27,
    ReadLocked = 1u << 28,
    Written = 1u << 29,
    PlatformCreate = 1u << 30,
    ReadStClear = 1u << 31,
}

/// <summary>TPMS_NV_PUBLIC (TPM 2.0 Part 2, 13.5). Keeps its exact bytes: the index Name hashes them.</summary>
public sealed class TpmsNvPublic
{
    private byte[]? _name;

    public TpmsNvPublic(uint nvIndex, TpmAlgorithmId nameAlg, TpmNvAttributes attributes, byte[] authPolicy, ushort dataSize)
    {
        NvIndex = nvIndex;
        NameAlg = nameAlg;
        Attributes = attributes;
        AuthPolicy = authPolicy;
        DataSize = dataSize;
        var w = new TpmWriter(64);
        w.WriteUInt32(nvIndex).WriteAlgorithm(nameAlg).WriteUInt32((uint)attributes).WriteSized(authPolicy).WriteUInt16(dataSize);
        Bytes = w.ToArray();
    }

    public uint NvIndex { get; }

    public TpmAlgorithmId NameAlg { get; }

    public TpmNvAttributes Attributes { get; }

    public byte[] AuthPolicy { get; }

    public ushort DataSize { get; }

    public byte[] Bytes { get; }

    /// <summary>nameAlg || H_nameAlg(TPMS_NV_PUBLIC) (Part 1, 16).</summary>
    public byte[] Name => _name ??= [(byte)((ushort)NameAlg >> 8), (byte)NameAlg, .. TpmHash.Hash(NameAlg, Bytes)];

    public static TpmsNvPublic ReadTpm2b(ref TpmReader r)
    {
        var inner = r.ReadSized("TPM2B_NV_PUBLIC", 256);
        var index = inner.ReadUInt32("TPMS_NV_PUBLIC.nvIndex");
        var alg = inner.ReadAlgorithm("TPMS_NV_PUBLIC.nameAlg");
        var attrs = (TpmNvAttributes)inner.ReadUInt32("TPMS_NV_PUBLIC.attributes");
        var policy = inner.ReadSizedBytes("TPMS_NV_PUBLIC.authPolicy", TpmLimits.MaxDigestSize).ToArray();
        var size = inner.ReadUInt16("TPMS_NV_PUBLIC.dataSize");
        inner.ThrowIfNotEmpty("TPM2B_NV_PUBLIC");
        return new TpmsNvPublic(index, alg, attrs, policy, size);
    }

    public void WriteTpm2b(TpmWriter w) => w.WriteSized(Bytes);
}
