namespace TrustPool.Audit.Exports;

/// <summary>
/// The audit export document (<c>trustpool audit export</c>): <c>{format, origin, keyName, publicKey, size,
/// checkpoints:[{size, note}], entries:[{index, type, record, leafHash}]}</c>: every entry up to the latest
/// checkpoint, every stored checkpoint, the signing public key.
/// </summary>
public static class AuditExport
{
    /// <summary>The value of the document's <c>format</c> member.</summary>
    public const string Format = "trustpool-audit-export/1";
}

/// <summary>What kind of problem an export has (the message says where).</summary>
public enum AuditExportProblemKind
{
    /// <summary>A checkpoint whose signature, key or origin does not verify.</summary>
    BadCheckpoint,

    /// <summary>Two signed checkpoints of one size with different roots: the log forked.</summary>
    Fork,

    /// <summary>A record is missing at its position (or records are out of order).</summary>
    RecordMissing,

    /// <summary>A record was inserted at a position (or records are out of order).</summary>
    RecordInserted,

    /// <summary>A record's bytes do not match its leaf hash or its listed type, or are not a canonical record.</summary>
    RecordEdited,

    /// <summary>A signed checkpoint covers more records than the export holds.</summary>
    RecordsMissing,

    /// <summary>The records do not rebuild a checkpoint's signed root.</summary>
    RootMismatch,

    /// <summary>Two checkpoints are not consistent with each other.</summary>
    Inconsistent,

    /// <summary>No valid signed checkpoint: nothing is verified.</summary>
    NoCheckpoint,

    /// <summary>Trailing records not covered by any signed checkpoint.</summary>
    NotCovered,
}

/// <summary>One problem of an export: its kind, the record index it concerns (when it is about one), and the message.</summary>
public sealed record AuditExportProblem(AuditExportProblemKind Kind, long? RecordIndex, string Message)
{
    /// <summary>The message, which names the record index or checkpoint size.</summary>
    public override string ToString() => Message;
}

/// <summary>The outcome of verifying an export: each problem names the record index (or checkpoint size) it concerns.</summary>
public sealed record AuditExportVerification(int Entries, int Checkpoints, long VerifiedSize, IReadOnlyList<AuditExportProblem> Problems)
{
    /// <summary>True when there is no problem: every record is covered by a verified signed checkpoint.</summary>
    public bool Valid => Problems.Count == 0;
}

/// <summary>The export, or a key or checkpoint handed with it, cannot be parsed (not a verdict about the log).</summary>
public sealed class AuditExportFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public AuditExportFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public AuditExportFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AuditExportFormatException()
    {
    }
}
