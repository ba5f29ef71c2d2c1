using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Client;

/// <summary>A TPM handle (TPM 2.0 Part 2, 7). The top byte is the handle type.</summary>
public readonly record struct TpmHandle(uint Value)
{
    public static readonly TpmHandle Owner = new(0x40000001);
    public static readonly TpmHandle Null = new(0x40000007);
    public static readonly TpmHandle PasswordSession = new(0x40000009);
    public static readonly TpmHandle Lockout = new(0x4000000A);
    public static readonly TpmHandle Endorsement = new(0x4000000B);
    public static readonly TpmHandle Platform = new(0x4000000C);

    /// <summary>TCG EK Credential Profile: RSA 2048 EK certificate NV index.</summary>
    public const uint EkCertificateRsaNvIndex = 0x01C00002;

    /// <summary>TCG EK Credential Profile: ECC P-256 EK certificate NV index.</summary>
    public const uint EkCertificateEccNvIndex = 0x01C0000A;

    /// <summary>Default persistent handle for the AK (TrustPool agent, issue 4).</summary>
    public static readonly TpmHandle DefaultAkPersistent = new(0x81010002);

    public bool IsPersistent => (Value >> 24) == 0x81;

    public bool IsTransient => (Value >> 24) == 0x80;

    public override string ToString() => $"0x{Value:x8}";
}

/// <summary>Key algorithms TrustPool creates keys with.</summary>
public enum TpmKeyAlgorithm
{
    Rsa2048,
    EccP256,
}

/// <summary>A loaded key: its handle (transient or persistent) and its public area.</summary>
public sealed record TpmKey(TpmHandle Handle, TpmtPublic Public)
{
    public byte[] Name => Public.Name;
}

/// <summary>What GetCapability tells about the TPM (TPM 2.0 Part 2, 6.13 TPM_PT_*).</summary>
public sealed record TpmInfo(uint ManufacturerId, string Manufacturer, string VendorString, ulong FirmwareVersion, IReadOnlyList<TpmAlgorithmId> PcrBanks)
{
    /// <summary>The firmware version as "major.minor.patch.build" from its two 32-bit halves.</summary>
    public string FirmwareVersionText => $"{FirmwareVersion >> 48}.{(FirmwareVersion >> 32) & 0xFFFF}.{(FirmwareVersion >> 16) & 0xFFFF}.{FirmwareVersion & 0xFFFF}";
}

/// <summary>Output of TPM2_Quote / TPM2_NV_Certify: the TPMS_ATTEST bytes and the TPMT_SIGNATURE bytes, as the TPM produced them.</summary>
public sealed record TpmAttestation(byte[] Attest, byte[] Signature);

/// <summary>
/// The TPM commands TrustPool needs, implemented by TpmClient over a real TPM transport
/// (device or swtpm) and by SoftwareTpm. Code above this interface cannot tell them apart.
/// Implementations are not thread-safe: a TPM executes one command at a time; callers serialize.
/// </summary>
public interface ITpm : IDisposable
{
    /// <summary>True for a simulator (swtpm or the software TPM): callers warn at start-up.</summary>
    bool IsSimulator { get; }

    /// <summary>TPM2_Startup(SU_CLEAR); an already initialized TPM is not an error.</summary>
    void Startup();

    /// <summary>Manufacturer, vendor string, firmware version and the PCR banks that are allocated.</summary>
    TpmInfo GetInfo();

    /// <summary>TPM2_PCR_Read over any number of PCRs (a TPM returns at most 8 per call).</summary>
    PcrValues ReadPcrs(PcrSelection selection);

    /// <summary>TPM2_PCR_Extend of one PCR with one digest per bank.</summary>
    void ExtendPcr(int index, IReadOnlyList<TpmtHa> digests);

    /// <summary>TPM2_CreatePrimary in the endorsement hierarchy with the TCG EK Credential Profile default template (L-1 RSA 2048 / L-2 ECC P-256).</summary>
    TpmKey CreateEk(TpmKeyAlgorithm algorithm);

    /// <summary>A restricted signing key (fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign) in the endorsement hierarchy.</summary>
    TpmKey CreateAk(TpmKeyAlgorithm algorithm);

    /// <summary>TPM2_ReadPublic.</summary>
    TpmtPublic ReadPublic(TpmHandle handle);

    /// <summary>TPM2_Quote with the key's own scheme. <paramref name="qualifyingData"/> is the nonce (extraData).</summary>
    TpmAttestation Quote(TpmHandle signingKey, ReadOnlySpan<byte> qualifyingData, PcrSelection selection);

    /// <summary>
    /// TPM2_ActivateCredential. <paramref name="credentialBlob"/> is the TPM2B_ID_OBJECT contents
    /// (integrityHMAC TPM2B followed by encIdentity), <paramref name="encryptedSecret"/> the TPM2B_ENCRYPTED_SECRET contents.
    /// The EK is authorized with a PolicySecret(TPM_RH_ENDORSEMENT) session. Returns the decrypted credential.
    /// </summary>
    byte[] ActivateCredential(TpmHandle activateHandle, TpmHandle ekHandle, byte[] credentialBlob, byte[] encryptedSecret);

    /// <summary>TPM2_NV_ReadPublic.</summary>
    TpmsNvPublic NvReadPublic(uint nvIndex);

    /// <summary>TPM2_NV_Read of the whole index (in chunks the TPM accepts), authorized by the index itself (or owner when the index demands it).</summary>
    byte[] NvRead(uint nvIndex);

    /// <summary>TPM2_NV_DefineSpace under the owner hierarchy with an empty auth value.</summary>
    void NvDefineSpace(uint nvIndex, ushort size, TpmNvAttributes attributes);

    /// <summary>TPM2_NV_Write (authorized by the index, empty auth).</summary>
    void NvWrite(uint nvIndex, ReadOnlySpan<byte> data, ushort offset = 0);

    /// <summary>TPM2_NV_UndefineSpace (owner).</summary>
    void NvUndefineSpace(uint nvIndex);

    /// <summary>TPM2_NV_Certify: the signing key certifies <paramref name="size"/> bytes of the index from <paramref name="offset"/>.</summary>
    TpmAttestation NvCertify(TpmHandle signingKey, uint nvIndex, ReadOnlySpan<byte> qualifyingData, ushort size, ushort offset);

    /// <summary>TPM2_EvictControl (owner): makes a transient object persistent at <paramref name="persistentHandle"/>.</summary>
    void MakePersistent(TpmHandle transient, TpmHandle persistentHandle);

    /// <summary>TPM2_EvictControl (owner): removes a persistent object.</summary>
    void EvictPersistent(TpmHandle persistentHandle);

    /// <summary>TPM2_FlushContext of a transient object or session.</summary>
    void FlushContext(TpmHandle handle);
}
