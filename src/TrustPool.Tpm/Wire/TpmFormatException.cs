namespace TrustPool.Tpm.Wire;

/// <summary>
/// Malformed TPM 2.0 bytes: a structure that is truncated, oversized, carries trailing bytes or a value
/// outside what TPM 2.0 Part 2 allows. Names the field and the absolute offset where reading failed.
/// </summary>
public sealed class TpmFormatException : FormatException
{
    public TpmFormatException(string field, int offset, string problem)
        : base($"{field} at offset {offset}: {problem}")
    {
        Field = field;
        Offset = offset;
    }

    public TpmFormatException()
        : this("input", 0, "malformed TPM structure")
    {
    }

    public TpmFormatException(string message)
        : base(message)
    {
        Field = "input";
    }

    public TpmFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = "input";
    }

    /// <summary>The structure field being read, e.g. <c>TPMS_ATTEST.extraData</c>.</summary>
    public string Field { get; }

    /// <summary>Byte offset from the start of the outermost buffer.</summary>
    public int Offset { get; }
}
