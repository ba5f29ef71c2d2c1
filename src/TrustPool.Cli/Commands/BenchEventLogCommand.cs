using System.CommandLine;

namespace TrustPool.Cli.Commands;

internal static class BenchEventLogCommand
{
    public static Command Create() => new("eventlog", "(not built yet)");
}
