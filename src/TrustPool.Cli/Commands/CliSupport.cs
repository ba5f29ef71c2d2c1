using System.Text.Json;
using TrustPool.Evidence;
using TrustPool.Tpm.Wire;

namespace TrustPool.Cli.Commands;

/// <summary>A usage or input error found after parsing: printed to stderr, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>Plumbing every verb shares: exit codes for bad input, hex arguments, one JSON document on stdout.</summary>
internal static class CliSupport
{
    /// <summary>
    /// Runs a verb. Unparseable input (TpmFormatException, EventLogFormatException, with field and offset) and usage
    /// problems print one line to stderr and exit 2 (ARCHITECTURE.md command-line contract).
    /// </summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is TpmFormatException or EventLogFormatException)
        {
            Console.Error.WriteLine($"error: unparseable input: {e.Message}");
            return Program.ExitUsage;
        }
        catch (Exception e) when (e is CliUsageException or IOException or UnauthorizedAccessException or FormatException
                                      or NotSupportedException or ArgumentException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Program.ExitUsage;
        }
    }

    public static byte[] ParseHex(string hex, string what)
    {
        var h = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        try
        {
            return Convert.FromHexString(h);
        }
        catch (FormatException)
        {
            throw new CliUsageException($"{what} '{hex}' is not hex");
        }
    }

    /// <summary>Writes one JSON document (plus newline) on stdout.</summary>
    public static void WriteJson(Action<Utf8JsonWriter> body)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }

        stdout.WriteByte((byte)'\n');
    }
}
