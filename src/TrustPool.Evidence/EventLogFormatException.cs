namespace TrustPool.Evidence;

/// <summary>
/// Malformed event log bytes (UEFI/TCG or IMA). Carries the field being read and the byte offset
/// (or, for ASCII IMA lists, the line number) where the input stopped making sense.
/// </summary>
public sealed class EventLogFormatException : FormatException
{
    public EventLogFormatException()
        : this("input", 0, "malformed event log")
    {
    }

    public EventLogFormatException(string message)
        : this("input", 0, message)
    {
    }

    public EventLogFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = "input";
    }

    public EventLogFormatException(string field, long offset, string reason)
        : base($"{reason} (field '{field}' at offset {offset} / 0x{offset:x})")
    {
        Field = field;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>Name of the structure field being read, e.g. <c>TCG_PCR_EVENT2.eventSize</c>.</summary>
    public string Field { get; }

    /// <summary>Byte offset into the log (ASCII IMA lists: byte offset of the line's start).</summary>
    public long Offset { get; }

    /// <summary>The reason without the field/offset suffix.</summary>
    public string Reason { get; } = "";
}
