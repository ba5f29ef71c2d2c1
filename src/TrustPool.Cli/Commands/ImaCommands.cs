using System.CommandLine;

namespace TrustPool.Cli.Commands;

internal static class ImaCommands
{
    public static Command Create() => new("ima", "(not built yet)");
}
