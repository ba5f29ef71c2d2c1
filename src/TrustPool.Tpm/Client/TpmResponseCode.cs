using System.Collections.Frozen;
using System.Globalization;

namespace TrustPool.Tpm.Client;

/// <summary>Which of the TPM 2.0 Part 2, 6.6 layouts a response code uses.</summary>
public enum TpmResponseCodeFormat
{
    Success,

    /// <summary>Format-0 (bit 7 clear): an error or warning number with TCG/vendor and severity bits.</summary>
    Format0,

    /// <summary>Format-1 (bit 7 set): an error number that refers to a handle, parameter or session.</summary>
    Format1,

    /// <summary>A TPM 1.2 code (format-0 with the version bit clear).</summary>
    Tpm12,

    /// <summary>A code from a software layer above the TPM (TSS layer in bits 16-23), not from the TPM itself.</summary>
    Layer,
}

/// <summary>
/// A TPM_RC decoded per TPM 2.0 Part 2, 6.6 (Figure 3 / Table 16):
/// format-0 = bits 0-6 number, bit 8 TPM 2.0 (TPM_RC_VER1), bit 10 vendor (TPM_RC_T), bit 11 warning (TPM_RC_S);
/// format-1 = bits 0-5 number, bit 6 parameter (TPM_RC_P), bit 7 set, bits 8-11 N: parameter N when bit 6 is
/// set, otherwise handle N (N 1..7) or session N-8 (N 8..15).
/// </summary>
public readonly record struct TpmResponseCode(uint Value)
{
    private const uint RcVer1 = 0x100;
    private const uint RcFmt1 = 0x080;
    private const uint RcWarn = 0x900;

    public static readonly TpmResponseCode Success = new(0);

    /// <summary>TPM_RC_INITIALIZE: TPM2_Startup sent to a TPM that has already started.</summary>
    public static readonly TpmResponseCode Initialize = new(RcVer1 + 0x000);

    public static readonly TpmResponseCode ObjectMemory = new(RcWarn + 0x002);
    public static readonly TpmResponseCode Yielded = new(RcWarn + 0x008);
    public static readonly TpmResponseCode Testing = new(RcWarn + 0x00A);
    public static readonly TpmResponseCode Retry = new(RcWarn + 0x022);

    public bool IsSuccess => Value == 0;

    public TpmResponseCodeFormat Format =>
        Value == 0 ? TpmResponseCodeFormat.Success
        : (Value & 0xFFFF0000) != 0 ? TpmResponseCodeFormat.Layer
        : (Value & RcFmt1) != 0 ? TpmResponseCodeFormat.Format1
        : (Value & RcVer1) != 0 ? TpmResponseCodeFormat.Format0
        : TpmResponseCodeFormat.Tpm12;

    /// <summary>Format-0 warning (TPM_RC_S): the command did not run and may succeed when repeated or after freeing resources.</summary>
    public bool IsWarning => Format == TpmResponseCodeFormat.Format0 && (Value & 0x800) != 0;

    /// <summary>Format-0 vendor-defined code (TPM_RC_T).</summary>
    public bool IsVendor => Format == TpmResponseCodeFormat.Format0 && (Value & 0x400) != 0;

    /// <summary>TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING: send the same command again (Part 2, 6.6.3).</summary>
    public bool IsRetryable => this == Retry || this == Yielded || this == Testing;

    /// <summary>The error number: bits 0-6 for format-0, bits 0-5 for format-1.</summary>
    public int ErrorNumber => Format switch
    {
        TpmResponseCodeFormat.Format1 => (int)(Value & 0x3F),
        TpmResponseCodeFormat.Format0 => (int)(Value & 0x7F),
        _ => 0,
    };

    /// <summary>The code without its handle/parameter/session number (e.g. 0x1C4 -> 0x084, TPM_RC_VALUE), to compare against named codes.</summary>
    public uint BaseCode => Format switch
    {
        TpmResponseCodeFormat.Format1 => RcFmt1 | (Value & 0x3F),
        TpmResponseCodeFormat.Format0 => Value & 0xD7F,
        _ => Value,
    };

    /// <summary>Format-1 with TPM_RC_P: the 1-based parameter number.</summary>
    public int? Parameter => Format == TpmResponseCodeFormat.Format1 && (Value & 0x40) != 0 ? (int)((Value >> 8) & 0xF) : null;

    /// <summary>Format-1 without TPM_RC_P and N in 1..7: the 1-based handle number.</summary>
    public int? Handle => Format == TpmResponseCodeFormat.Format1 && (Value & 0x40) == 0 && ((Value >> 8) & 0xF) is >= 1 and <= 7 ? (int)((Value >> 8) & 0xF) : null;

    /// <summary>Format-1 without TPM_RC_P and with TPM_RC_S (N 8..15): the 1-based session number (TPM_RC_S + TPM_RC_1 = first session).</summary>
    public int? Session => Format == TpmResponseCodeFormat.Format1 && (Value & 0x40) == 0 && ((Value >> 8) & 0xF) >= 8 ? (int)((Value >> 8) & 0xF) - 8 : null;

    /// <summary>The TSS layer (bits 16-23) of a code from software above the TPM.</summary>
    public int Layer => (int)((Value >> 16) & 0xFF);

    /// <summary>The TCG name, e.g. <c>TPM_RC_VALUE</c>; null when the code has no name here.</summary>
    public string? Name => Format switch
    {
        TpmResponseCodeFormat.Success => "TPM_RC_SUCCESS",
        TpmResponseCodeFormat.Format0 when IsVendor => null,
        TpmResponseCodeFormat.Format0 or TpmResponseCodeFormat.Format1 => s_codes.TryGetValue(BaseCode, out var c) ? c.Name : null,
        _ => null,
    };

    /// <summary>What the code means, from the TPM 2.0 Part 2 table.</summary>
    public string Description => Format switch
    {
        TpmResponseCodeFormat.Success => "success",
        TpmResponseCodeFormat.Format0 when IsVendor => $"vendor-defined {(IsWarning ? "warning" : "error")} 0x{ErrorNumber:x2}",
        TpmResponseCodeFormat.Format0 or TpmResponseCodeFormat.Format1 =>
            s_codes.TryGetValue(BaseCode, out var c) ? c.Text : $"unknown {(IsWarning ? "warning" : "error")} 0x{ErrorNumber:x2}",
        TpmResponseCodeFormat.Tpm12 => "TPM 1.2 response code (the device is not a TPM 2.0 or did not understand the command)",
        _ => $"code from software layer {Layer} (not the TPM)",
    };

    /// <summary>"handle 1", "parameter 2", "session 1" or null.</summary>
    public string? Subject =>
        Parameter is { } p ? $"parameter {p}" : Handle is { } h ? $"handle {h}" : Session is { } s ? $"session {s}" : null;

    /// <summary>E.g. <c>TPM_RC_VALUE (0x1c4): parameter 1: value is out of range or is not correct for the context</c>.</summary>
    public override string ToString()
    {
        var hex = "0x" + Value.ToString("x3", CultureInfo.InvariantCulture);
        var head = Name is { } n ? $"{n} ({hex})" : hex;
        return Subject is { } s ? $"{head}: {s}: {Description}" : $"{head}: {Description}";
    }

    private static readonly FrozenDictionary<uint, (string Name, string Text)> s_codes = new Dictionary<uint, (string, string)>
    {
        // Format-0 errors (RC_VER1 + n), Part 2, Table 16.
        [RcVer1 + 0x000] = ("TPM_RC_INITIALIZE", "TPM not initialized by TPM2_Startup or already initialized"),
        [RcVer1 + 0x001] = ("TPM_RC_FAILURE", "commands not being accepted because of a TPM failure"),
        [RcVer1 + 0x003] = ("TPM_RC_SEQUENCE", "improper use of a sequence handle"),
        [RcVer1 + 0x00B] = ("TPM_RC_PRIVATE", "not currently used"),
        [RcVer1 + 0x019] = ("TPM_RC_HMAC", "not currently used"),
        [RcVer1 + 0x020] = ("TPM_RC_DISABLED", "the command is disabled"),
        [RcVer1 + 0x021] = ("TPM_RC_EXCLUSIVE", "command failed because audit sequence required exclusivity"),
        [RcVer1 + 0x024] = ("TPM_RC_AUTH_TYPE", "authorization handle is not correct for command"),
        [RcVer1 + 0x025] = ("TPM_RC_AUTH_MISSING", "command requires an authorization session for handle and it is not present"),
        [RcVer1 + 0x026] = ("TPM_RC_POLICY", "policy failure in math operation or an invalid authPolicy value"),
        [RcVer1 + 0x027] = ("TPM_RC_PCR", "PCR check fail"),
        [RcVer1 + 0x028] = ("TPM_RC_PCR_CHANGED", "PCR have changed since checked"),
        [RcVer1 + 0x02D] = ("TPM_RC_UPGRADE", "the TPM is in field upgrade mode"),
        [RcVer1 + 0x02E] = ("TPM_RC_TOO_MANY_CONTEXTS", "context ID counter is at maximum"),
        [RcVer1 + 0x02F] = ("TPM_RC_AUTH_UNAVAILABLE", "authValue or authPolicy is not available for selected entity"),
        [RcVer1 + 0x030] = ("TPM_RC_REBOOT", "a _TPM_Init and Startup(CLEAR) is required before the TPM can resume operation"),
        [RcVer1 + 0x031] = ("TPM_RC_UNBALANCED", "the protection algorithms (hash and symmetric) are not reasonably balanced"),
        [RcVer1 + 0x042] = ("TPM_RC_COMMAND_SIZE", "command commandSize value is inconsistent with contents of the command buffer"),
        [RcVer1 + 0x043] = ("TPM_RC_COMMAND_CODE", "command code not supported"),
        [RcVer1 + 0x044] = ("TPM_RC_AUTHSIZE", "the value of authorizationSize is out of range or the number of octets in the authorization area is greater than required"),
        [RcVer1 + 0x045] = ("TPM_RC_AUTH_CONTEXT", "use of an authorization session with a context command or another command that cannot have an authorization session"),
        [RcVer1 + 0x046] = ("TPM_RC_NV_RANGE", "NV offset+size is out of range"),
        [RcVer1 + 0x047] = ("TPM_RC_NV_SIZE", "requested allocation size is larger than allowed"),
        [RcVer1 + 0x048] = ("TPM_RC_NV_LOCKED", "NV access locked"),
        [RcVer1 + 0x049] = ("TPM_RC_NV_AUTHORIZATION", "NV access authorization fails in command actions"),
        [RcVer1 + 0x04A] = ("TPM_RC_NV_UNINITIALIZED", "an NV Index is used before being initialized or the state saved by TPM2_Shutdown(STATE) could not be restored"),
        [RcVer1 + 0x04B] = ("TPM_RC_NV_SPACE", "insufficient space for NV allocation"),
        [RcVer1 + 0x04C] = ("TPM_RC_NV_DEFINED", "NV Index or persistent object already defined"),
        [RcVer1 + 0x050] = ("TPM_RC_BAD_CONTEXT", "context in TPM2_ContextLoad() is not valid"),
        [RcVer1 + 0x051] = ("TPM_RC_CPHASH", "cpHash value already set or not correct for use"),
        [RcVer1 + 0x052] = ("TPM_RC_PARENT", "handle for parent is not a valid parent"),
        [RcVer1 + 0x053] = ("TPM_RC_NEEDS_TEST", "some function needs testing"),
        [RcVer1 + 0x054] = ("TPM_RC_NO_RESULT", "an internal function cannot process a request due to an unspecified problem"),
        [RcVer1 + 0x055] = ("TPM_RC_SENSITIVE", "the sensitive area did not unmarshal correctly after decryption"),

        // Format-1 errors (RC_FMT1 + n).
        [RcFmt1 + 0x001] = ("TPM_RC_ASYMMETRIC", "asymmetric algorithm not supported or not correct"),
        [RcFmt1 + 0x002] = ("TPM_RC_ATTRIBUTES", "inconsistent attributes"),
        [RcFmt1 + 0x003] = ("TPM_RC_HASH", "hash algorithm not supported or not appropriate"),
        [RcFmt1 + 0x004] = ("TPM_RC_VALUE", "value is out of range or is not correct for the context"),
        [RcFmt1 + 0x005] = ("TPM_RC_HIERARCHY", "hierarchy is not enabled or is not correct for the use"),
        [RcFmt1 + 0x007] = ("TPM_RC_KEY_SIZE", "key size is not supported"),
        [RcFmt1 + 0x008] = ("TPM_RC_MGF", "mask generation function not supported"),
        [RcFmt1 + 0x009] = ("TPM_RC_MODE", "mode of operation not supported"),
        [RcFmt1 + 0x00A] = ("TPM_RC_TYPE", "the type of the value is not appropriate for the use"),
        [RcFmt1 + 0x00B] = ("TPM_RC_HANDLE", "the handle is not correct for the use"),
        [RcFmt1 + 0x00C] = ("TPM_RC_KDF", "unsupported key derivation function or function not appropriate for use"),
        [RcFmt1 + 0x00D] = ("TPM_RC_RANGE", "value was out of allowed range"),
        [RcFmt1 + 0x00E] = ("TPM_RC_AUTH_FAIL", "the authorization HMAC check failed and DA counter incremented"),
        [RcFmt1 + 0x00F] = ("TPM_RC_NONCE", "invalid nonce size or nonce value mismatch"),
        [RcFmt1 + 0x010] = ("TPM_RC_PP", "authorization requires assertion of PP"),
        [RcFmt1 + 0x012] = ("TPM_RC_SCHEME", "unsupported or incompatible scheme"),
        [RcFmt1 + 0x015] = ("TPM_RC_SIZE", "structure is the wrong size"),
        [RcFmt1 + 0x016] = ("TPM_RC_SYMMETRIC", "unsupported symmetric algorithm or key size, or not appropriate for instance"),
        [RcFmt1 + 0x017] = ("TPM_RC_TAG", "incorrect structure tag"),
        [RcFmt1 + 0x018] = ("TPM_RC_SELECTOR", "union selector is incorrect"),
        [RcFmt1 + 0x01A] = ("TPM_RC_INSUFFICIENT", "the TPM was unable to unmarshal a value because there were not enough octets in the input buffer"),
        [RcFmt1 + 0x01B] = ("TPM_RC_SIGNATURE", "the signature is not valid"),
        [RcFmt1 + 0x01C] = ("TPM_RC_KEY", "key fields are not compatible with the selected use"),
        [RcFmt1 + 0x01D] = ("TPM_RC_POLICY_FAIL", "a policy check failed"),
        [RcFmt1 + 0x01F] = ("TPM_RC_INTEGRITY", "integrity check failed"),
        [RcFmt1 + 0x020] = ("TPM_RC_TICKET", "invalid ticket"),
        [RcFmt1 + 0x021] = ("TPM_RC_RESERVED_BITS", "reserved bits not set to zero as required"),
        [RcFmt1 + 0x022] = ("TPM_RC_BAD_AUTH", "authorization failure without DA implications"),
        [RcFmt1 + 0x023] = ("TPM_RC_EXPIRED", "the policy has expired"),
        [RcFmt1 + 0x024] = ("TPM_RC_POLICY_CC", "the commandCode in the policy is not the commandCode of the command or the command code in a policy command references a command that is not implemented"),
        [RcFmt1 + 0x025] = ("TPM_RC_BINDING", "public and sensitive portions of an object are not cryptographically bound"),
        [RcFmt1 + 0x026] = ("TPM_RC_CURVE", "curve not supported"),
        [RcFmt1 + 0x027] = ("TPM_RC_ECC_POINT", "point is not on the required curve"),

        // Format-0 warnings (RC_WARN + n).
        [RcWarn + 0x001] = ("TPM_RC_CONTEXT_GAP", "gap for context ID is too large"),
        [RcWarn + 0x002] = ("TPM_RC_OBJECT_MEMORY", "out of memory for object contexts (flush transient objects)"),
        [RcWarn + 0x003] = ("TPM_RC_SESSION_MEMORY", "out of memory for session contexts"),
        [RcWarn + 0x004] = ("TPM_RC_MEMORY", "out of shared object/session memory or need space for internal operations"),
        [RcWarn + 0x005] = ("TPM_RC_SESSION_HANDLES", "out of session handles; a session must be flushed before a new session may be created"),
        [RcWarn + 0x006] = ("TPM_RC_OBJECT_HANDLES", "out of object handles; the handle space for objects is depleted and a reboot is required"),
        [RcWarn + 0x007] = ("TPM_RC_LOCALITY", "bad locality"),
        [RcWarn + 0x008] = ("TPM_RC_YIELDED", "the TPM has suspended operation on the command; forward progress was made and the command may be retried"),
        [RcWarn + 0x009] = ("TPM_RC_CANCELED", "the command was canceled"),
        [RcWarn + 0x00A] = ("TPM_RC_TESTING", "TPM is performing self-tests"),
        [RcWarn + 0x010] = ("TPM_RC_REFERENCE_H0", "the 1st handle in the handle area references a transient object or session that is not loaded"),
        [RcWarn + 0x011] = ("TPM_RC_REFERENCE_H1", "the 2nd handle in the handle area references a transient object or session that is not loaded"),
        [RcWarn + 0x012] = ("TPM_RC_REFERENCE_H2", "the 3rd handle in the handle area references a transient object or session that is not loaded"),
        [RcWarn + 0x013] = ("TPM_RC_REFERENCE_H3", "the 4th handle in the handle area references a transient object or session that is not loaded"),
        [RcWarn + 0x014] = ("TPM_RC_REFERENCE_H4", "the 5th handle in the handle area references a transient object or session that is not loaded"),
        [RcWarn + 0x015] = ("TPM_RC_REFERENCE_H5", "the 6th handle in the handle area references a transient object or session that is not loaded"),
        [RcWarn + 0x016] = ("TPM_RC_REFERENCE_H6", "the 7th handle in the handle area references a transient object or session that is not loaded"),
        [RcWarn + 0x018] = ("TPM_RC_REFERENCE_S0", "the 1st authorization session handle references a session that is not loaded"),
        [RcWarn + 0x019] = ("TPM_RC_REFERENCE_S1", "the 2nd authorization session handle references a session that is not loaded"),
        [RcWarn + 0x01A] = ("TPM_RC_REFERENCE_S2", "the 3rd authorization session handle references a session that is not loaded"),
        [RcWarn + 0x01B] = ("TPM_RC_REFERENCE_S3", "the 4th authorization session handle references a session that is not loaded"),
        [RcWarn + 0x01C] = ("TPM_RC_REFERENCE_S4", "the 5th authorization session handle references a session that is not loaded"),
        [RcWarn + 0x01D] = ("TPM_RC_REFERENCE_S5", "the 6th authorization session handle references a session that is not loaded"),
        [RcWarn + 0x01E] = ("TPM_RC_REFERENCE_S6", "the 7th authorization session handle references a session that is not loaded"),
        [RcWarn + 0x020] = ("TPM_RC_NV_RATE", "the TPM is rate-limiting accesses to prevent wearout of NV"),
        [RcWarn + 0x021] = ("TPM_RC_LOCKOUT", "authorizations for objects subject to DA protection are not allowed at this time because the TPM is in DA lockout mode"),
        [RcWarn + 0x022] = ("TPM_RC_RETRY", "the TPM was not able to start the command"),
        [RcWarn + 0x023] = ("TPM_RC_NV_UNAVAILABLE", "the command may require writing of NV and NV is not current accessible"),
        [RcWarn + 0x07F] = ("TPM_RC_NOT_USED", "this value is reserved and shall not be returned by the TPM"),
    }.ToFrozenDictionary();
}
