using System.CommandLine;

namespace TrustPool.Cli.Commands;

internal static class BenchVerifyCommand
{
    public static Command Create() => new("verify", "(not built yet)");
}
