using System.CommandLine;

namespace TrustPool.Cli.Commands;

internal static partial class TpmCommands
{
    private static Command CreateQuote()
    {
        var cmd = new Command("quote", "Quote PCRs with the AK of a TPM backend and write tpm2-tools files.");
        return cmd;
    }
}
