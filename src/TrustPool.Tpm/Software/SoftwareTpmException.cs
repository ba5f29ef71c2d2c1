namespace TrustPool.Tpm.Software;

/// <summary>
/// The software TPM refused a command, with the TPM_RC a real TPM would return (TPM 2.0 Part 2, 6.6), including the
/// handle/parameter number of format-1 codes, e.g. 0x18B = TPM_RC_HANDLE on handle 1.
/// </summary>
public sealed class SoftwareTpmException : InvalidOperationException
{
    public SoftwareTpmException(uint responseCode, string message)
        : base($"{message} (TPM_RC 0x{responseCode:x3})")
    {
        ResponseCode = responseCode;
    }

    public SoftwareTpmException(uint responseCode, string message, Exception innerException)
        : base($"{message} (TPM_RC 0x{responseCode:x3})", innerException)
    {
        ResponseCode = responseCode;
    }

    public SoftwareTpmException()
        : this(TpmRc.Failure, "software TPM failure")
    {
    }

    public SoftwareTpmException(string message)
        : this(TpmRc.Failure, message)
    {
    }

    public SoftwareTpmException(string message, Exception innerException)
        : this(TpmRc.Failure, message, innerException)
    {
    }

    /// <summary>The TPM_RC value, as a real TPM would put it in the response header.</summary>
    public uint ResponseCode { get; }
}

/// <summary>The TPM_RC values the software TPM returns (Part 2, 6.6.3), and the handle/parameter qualifiers of format-1 codes.</summary>
internal static class TpmRc
{
    public const uint Failure = 0x101;
    public const uint NvRange = 0x146;
    public const uint NvSize = 0x147;
    public const uint NvUninitialized = 0x14A;
    public const uint NvDefined = 0x14C;
    public const uint Attributes = 0x082;
    public const uint Hash = 0x083;
    public const uint Value = 0x084;
    public const uint Type = 0x08A;
    public const uint Range = 0x08D;
    public const uint Handle = 0x08B;
    public const uint Size = 0x095;
    public const uint Key = 0x09C;
    public const uint Integrity = 0x09F;
    public const uint ObjectMemory = 0x902;

    /// <summary>Format-1 code qualified by handle number n (1-based).</summary>
    public static uint OnHandle(uint rc, int n) => rc | ((uint)n << 8);

    /// <summary>Format-1 code qualified by parameter number n (1-based).</summary>
    public static uint OnParameter(uint rc, int n) => rc | 0x040 | ((uint)n << 8);
}
