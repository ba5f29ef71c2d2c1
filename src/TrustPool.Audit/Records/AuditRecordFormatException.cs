namespace TrustPool.Audit.Records;

/// <summary>Bytes that are not the canonical encoding of an <see cref="AuditRecord"/>.</summary>
public sealed class AuditRecordFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public AuditRecordFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public AuditRecordFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AuditRecordFormatException()
    {
    }
}
