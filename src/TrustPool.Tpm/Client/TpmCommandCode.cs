namespace TrustPool.Tpm.Client;

/// <summary>TPM_CC (TPM 2.0 Part 2, 6.5.2): the commands TpmClient sends.</summary>
public enum TpmCommandCode : uint
{
    EvictControl = 0x0120,
    NvUndefineSpace = 0x0122,
    NvDefineSpace = 0x012A,
    CreatePrimary = 0x0131,
    NvWrite = 0x0137,
    Startup = 0x0144,
    ActivateCredential = 0x0147,
    NvRead = 0x014E,
    PolicySecret = 0x0151,
    Quote = 0x0158,
    FlushContext = 0x0165,
    NvReadPublic = 0x0169,
    ReadPublic = 0x0173,
    StartAuthSession = 0x0176,
    GetCapability = 0x017A,
    PcrRead = 0x017E,
    PcrExtend = 0x0182,
    NvCertify = 0x0184,
}
