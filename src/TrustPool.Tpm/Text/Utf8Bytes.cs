using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace TrustPool.Tpm.Text;

/// <summary>
/// UTF-8 validation of untrusted request bodies, shared by the agent and the service: JsonDocument checks UTF-8 only
/// when a string is read, so both refuse a body with an invalid byte before parsing it.
/// </summary>
public static class Utf8Bytes
{
    /// <summary>Offset of the first byte that does not start a valid UTF-8 sequence, or -1 when all are valid.</summary>
    public static int FirstInvalid(ReadOnlySpan<byte> bytes)
    {
        // The vectorised check first: almost every body is valid, and then nothing else runs.
        if (Utf8.IsValid(bytes))
        {
            return -1;
        }

        var at = 0;
        while (Rune.DecodeFromUtf8(bytes[at..], out _, out var n) == OperationStatus.Done)
        {
            at += n;
        }

        return at;
    }
}
