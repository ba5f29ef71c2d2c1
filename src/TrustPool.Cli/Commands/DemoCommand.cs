using System.CommandLine;

namespace TrustPool.Cli.Commands;

internal static class DemoCommand
{
    public static Command Create() => new("demo", "(not built yet)");
}
