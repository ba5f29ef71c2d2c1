namespace TrustPool.Evidence;

/// <summary>Lower-case hex, the form every TrustPool JSON document and CLI output uses.</summary>
public static class Hex
{
    public static string Lower(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>Parses hex (either case, optional 0x prefix); false on odd length or a non-hex digit.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out byte[] bytes)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        bytes = [];
        if (text.Length % 2 != 0)
        {
            return false;
        }

        var result = new byte[text.Length / 2];
        if (Convert.FromHexString(text, result, out _, out _) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        bytes = result;
        return true;
    }
}
