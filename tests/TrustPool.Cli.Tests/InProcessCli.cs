using Spectre.Console;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary>
/// Runs <c>Program.Main</c> in this process with stdout, stderr and Spectre's console captured. Console redirection is
/// process-wide and xunit runs test classes in parallel, so every in-process run in this assembly takes turns on one lock.
/// </summary>
internal static class InProcessCli
{
    private static readonly SemaphoreSlim s_console = new(1, 1);

    public static async Task<ProcessResult> RunAsync(string[] args)
    {
        await s_console.WaitAsync();
        var stdout = Console.Out;
        var stderr = Console.Error;
        var ansi = AnsiConsole.Console;
        try
        {
            using var @out = new StringWriter();
            using var err = new StringWriter();
            Console.SetOut(@out);
            Console.SetError(err);
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(@out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            });
            AnsiConsole.Console.Profile.Width = 200;
            var code = await Task.Run(() => Program.Main(args));
            return new ProcessResult(code, @out.ToString(), err.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            AnsiConsole.Console = ansi;
            s_console.Release();
        }
    }
}
