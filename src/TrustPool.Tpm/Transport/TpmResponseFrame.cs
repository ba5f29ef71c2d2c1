using System.Buffers.Binary;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Transport;

/// <summary>Checks of the 10-byte response header (tag, responseSize, responseCode) shared by the transports.</summary>
public static class TpmResponseFrame
{
    /// <summary>tag (2) + responseSize (4) + responseCode (4).</summary>
    public const int HeaderSize = 10;

    /// <summary>
    /// Upper bound on a response. TPMs report TPM_PT_MAX_RESPONSE_SIZE of 4096 (libtpms, most discrete TPMs);
    /// twice that leaves room for any real TPM while never allocating from an unchecked 32-bit size field.
    /// </summary>
    public const int MaxResponseSize = 8192;

    /// <summary>Reads responseSize from a header and checks it is between the header size and <see cref="MaxResponseSize"/>.</summary>
    public static int ReadSize(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderSize)
        {
            throw new TpmFormatException("response.header", 0, $"needs {HeaderSize} bytes, {header.Length} received");
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(header[2..]);
        if (size < HeaderSize || size > MaxResponseSize)
        {
            throw new TpmFormatException("response.responseSize", 2, $"{size} is outside {HeaderSize}..{MaxResponseSize}");
        }

        return (int)size;
    }

    /// <summary>Checks that a whole response read in one piece (device read) is exactly as long as its size field says.</summary>
    public static void CheckComplete(ReadOnlySpan<byte> response)
    {
        var size = ReadSize(response);
        if (size != response.Length)
        {
            throw new TpmFormatException("response.responseSize", 2, $"says {size} bytes but {response.Length} were received");
        }
    }
}
