using System.CommandLine;

namespace TrustPool.Cli.Commands;

/// <summary><c>trustpool bench ...</c>: the performance targets of each issue, measurable from the command line.</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure TrustPool's hot paths on this machine.");
        bench.Subcommands.Add(BenchVerifyCommand.Create());
        bench.Subcommands.Add(BenchEventLogCommand.Create());
        bench.Subcommands.Add(BenchAgentCommand.Create());
        bench.Subcommands.Add(BenchPlaceCommand.Create());
        bench.Subcommands.Add(BenchAttestCommand.Create());
        bench.Subcommands.Add(BenchAttestAgentsCommand.Create());
        bench.Subcommands.Add(BenchAuditCommand.Create());
        return bench;
    }
}
