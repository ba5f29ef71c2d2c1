namespace TrustPool.Evidence;

/// <summary>Lower-case hex, the form every TrustPool JSON document and CLI output uses.</summary>
public static class Hex
{
    public static string Lower(ReadOnlySpan<byte> bytes)
    {
        // A scalar loop on purpose: the vectorized Convert.ToHexStringLower is JIT-compiled at start-up
        // (its ReadyToRun code is rejected), which costs more than it saves for PCR-sized inputs.
        Span<char> chars = bytes.Length <= 128 ? stackalloc char[bytes.Length * 2] : new char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[2 * i] = Digits[bytes[i] >> 4];
            chars[(2 * i) + 1] = Digits[bytes[i] & 0xF];
        }

        return new string(chars);
    }

    private static ReadOnlySpan<char> Digits => "0123456789abcdef";

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
