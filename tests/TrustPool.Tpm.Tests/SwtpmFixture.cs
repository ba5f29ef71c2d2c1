using TrustPool.Testing;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Transport;

namespace TrustPool.Tpm.Tests;

/// <summary>swtpm tests take turns (STYLE.md, RK lock_tests): every class using swtpm joins this collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SwtpmCollection
{
    public const string Name = "swtpm";
}

/// <summary>
/// One manufactured swtpm per test class, started on first use so that a missing swtpm skips the test
/// (or fails it under TRUSTPOOL_REQUIRE_INTEGRATION=1) instead of failing the fixture.
/// There is no resource manager: tests flush what they create, and flush tpm2-tools' objects with <see cref="FlushTools"/>.
/// </summary>
public sealed class SwtpmFixture : IDisposable
{
    private SwtpmInstance? _instance;

    public SwtpmInstance Swtpm => _instance ??= SwtpmInstance.Start();

    /// <summary>A client that connects per command, so tpm2-tools can reach the same swtpm in between.</summary>
    public TpmClient Connect() => new(new SwtpmTcpTransport(Swtpm.Host, Swtpm.Port, TimeSpan.FromSeconds(30), holdConnection: false));

    /// <summary>Runs a tpm2-tools command against this swtpm; fails the test on a non-zero exit.</summary>
    public string Tool(string tool, string? workingDirectory, params string[] args)
    {
        var r = TryTool(tool, workingDirectory, args);
        Assert.True(r.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {r}");
        return r.StdOut;
    }

    public ProcessResult TryTool(string tool, string? workingDirectory, params string[] args)
    {
        var path = Integration.RequireTool(tool);
        return ProcessRunner.Run(path, args, new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = Swtpm.Tcti },
            workingDirectory, TimeSpan.FromSeconds(60));
    }

    /// <summary>RUNBOOK: flush the transient objects and sessions tpm2-tools left behind.</summary>
    public void FlushTools()
    {
        Tool("tpm2_flushcontext", null, "-t");
        Tool("tpm2_flushcontext", null, "-s");
    }

    public void Dispose() => _instance?.Dispose();
}
