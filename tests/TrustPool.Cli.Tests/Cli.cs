using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary>Runs the built <c>trustpool</c> command as a separate process, as an operator or script would.</summary>
internal static class Cli
{
    private static readonly string s_dll = Path.Combine(AppContext.BaseDirectory, "trustpool.dll");

    public static ProcessResult Run(params string[] args) => RunIn(null, TimeSpan.FromSeconds(120), args);

    public static ProcessResult RunIn(string? workDir, TimeSpan timeout, params string[] args)
    {
        Assert.True(File.Exists(s_dll), $"{s_dll} was not built");
        return ProcessRunner.Run("dotnet", [s_dll, .. args], new Dictionary<string, string> { ["NO_COLOR"] = "1" }, workDir, timeout);
    }
}
