using System.Text.Json;

namespace TrustPool.Cli.Commands;

/// <summary>One JSON document on stdout for <c>--json</c> (ARCHITECTURE.md command-line contract).</summary>
internal static class CliJson
{
    public static void Write(Action<Utf8JsonWriter> body)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }

        stdout.WriteByte((byte)'\n');
    }
}

/// <summary>A usage or input error: printed to stderr, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
