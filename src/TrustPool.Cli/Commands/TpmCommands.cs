using System.CommandLine;

namespace TrustPool.Cli.Commands;

internal static class TpmCommands
{
    public static Command Create() => new("tpm", "(not built yet)");
}
