using System.CommandLine;

namespace TrustPool.Cli.Commands;

internal static class EventLogCommands
{
    public static Command Create() => new("eventlog", "(not built yet)");
}
