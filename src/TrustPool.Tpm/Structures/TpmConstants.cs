namespace TrustPool.Tpm.Structures;

/// <summary>TPM_ST (TPM 2.0 Part 2, 6.9): structure tags used in attestation and command framing.</summary>
public enum TpmStructureTag : ushort
{
    RspCommand = 0x00C4,
    Null = 0x8000,
    NoSessions = 0x8001,
    Sessions = 0x8002,
    AttestNv = 0x8014,
    AttestCommandAudit = 0x8015,
    AttestSessionAudit = 0x8016,
    AttestCertify = 0x8017,
    AttestQuote = 0x8018,
    AttestTime = 0x8019,
    AttestCreation = 0x801A,
    AttestNvDigest = 0x801C,
    Creation = 0x8021,
    Verified = 0x8022,
    AuthSecret = 0x8023,
    HashCheck = 0x8024,
    AuthSigned = 0x8025,
}

/// <summary>TPM_ECC_CURVE (TPM 2.0 Part 2, 6.4).</summary>
public enum TpmEccCurve : ushort
{
    None = 0x0000,
    NistP192 = 0x0001,
    NistP224 = 0x0002,
    NistP256 = 0x0003,
    NistP384 = 0x0004,
    NistP521 = 0x0005,
    BnP256 = 0x0010,
    BnP638 = 0x0011,
    Sm2P256 = 0x0020,
}

/// <summary>TPMA_OBJECT (TPM 2.0 Part 2, 8.3).</summary>
[Flags]
public enum TpmObjectAttributes : uint
{
    None = 0,
    FixedTpm = 1u << 1,
    StClear = 1u << 2,
    FixedParent = 1u << 4,
    SensitiveDataOrigin = 1u << 5,
    UserWithAuth = 1u << 6,
    AdminWithPolicy = 1u << 7,
    NoDA = 1u << 10,
    EncryptedDuplication = 1u << 11,
    Restricted = 1u << 16,
    Decrypt = 1u << 17,
    Sign = 1u << 18,
    X509Sign = 1u << 19,
}

/// <summary>Limits from TPM 2.0 Part 2 and the TSS headers, used to bound every length before it is read.</summary>
public static class TpmLimits
{
    /// <summary>TPM_GENERATED_VALUE (Part 2, 6.2): every TPMS_ATTEST the TPM produces starts with it.</summary>
    public const uint GeneratedValue = 0xFF544347;

    /// <summary>sizeof(TPMU_HA): the largest digest (SHA-512).</summary>
    public const int MaxDigestSize = 64;

    /// <summary>sizeof(TPMU_NAME): an algorithm id plus the largest digest.</summary>
    public const int MaxNameSize = 2 + MaxDigestSize;

    /// <summary>TPML_DIGEST holds at most 8 digests (Part 2, 10.9.2).</summary>
    public const int MaxDigestsInList = 8;

    /// <summary>TPM2_NUM_PCR_BANKS in the TSS headers: entries of TPML_PCR_SELECTION.</summary>
    public const int MaxPcrBanks = 16;

    /// <summary>PCR_SELECT_MAX for 32 PCRs: bytes in TPMS_PCR_SELECTION.pcrSelect.</summary>
    public const int MaxPcrSelectBytes = 4;

    public const int MaxPcrs = MaxPcrSelectBytes * 8;

    /// <summary>MAX_RSA_KEY_BYTES for 4096-bit keys.</summary>
    public const int MaxRsaKeyBytes = 512;

    /// <summary>MAX_ECC_KEY_BYTES (P-521 rounds to 66).</summary>
    public const int MaxEccKeyBytes = 66;

    /// <summary>MAX_NV_BUFFER_SIZE generous upper bound.</summary>
    public const int MaxNvBufferSize = 2048;

    /// <summary>Upper bound for TPM2B_ATTEST, TPM2B_PUBLIC and similar envelopes.</summary>
    public const int MaxStructureSize = 4096;

    /// <summary>TPM2B_ID_OBJECT / TPM2B_ENCRYPTED_SECRET upper bounds.</summary>
    public const int MaxIdObjectSize = 2 + MaxDigestSize + 2 + MaxDigestSize;

    public const int MaxEncryptedSecretSize = MaxRsaKeyBytes;

    /// <summary>TPM2B_DATA (nonces, extraData) holds at most sizeof(TPMT_HA).</summary>
    public const int MaxDataSize = 2 + MaxDigestSize;
}
