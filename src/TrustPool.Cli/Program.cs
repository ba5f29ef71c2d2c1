using System.CommandLine;
using TrustPool.Cli.Commands;

namespace TrustPool.Cli;

/// <summary>The <c>trustpool</c> command. Exit codes (ARCHITECTURE.md): 0 success/valid, 1 verified-and-rejected, 2 usage or unparseable input.</summary>
public static class Program
{
    public const int ExitOk = 0;
    public const int ExitRejected = 1;
    public const int ExitUsage = 2;

    public static int Main(string[] args)
    {
        var root = BuildRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                Console.Error.WriteLine($"error: {e.Message}");
            }

            Console.Error.WriteLine("Run 'trustpool --help' for usage.");
            return ExitUsage;
        }

        try
        {
            return parse.Invoke();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything the verbs did not map to exit 2 is a failure of the operation itself.
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            return ExitRejected;
        }
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("TrustPool: attestation service, trust agent and tools for trusted compute pools.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(TpmCommands.Create());
        root.Subcommands.Add(EventLogCommands.Create());
        root.Subcommands.Add(ImaCommands.Create());
        root.Subcommands.Add(BenchCommands.Create());
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(ServerCommand.Create());
        foreach (var admin in Commands.Admin.AdminCommands.Create())
        {
            root.Subcommands.Add(admin);
        }

        root.Subcommands.Add(CaCommands.Create());
        root.Subcommands.Add(AuditCommands.Create());
        return root;
    }
}
