using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary>
/// A long-running <c>dotnet DLL ARGS</c> (the service or an agent) with stdout and stderr collected line by line,
/// stopped with SIGTERM as systemd would; killed if still running at dispose.
/// </summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private CliProcess(Process process) => _process = process;

    /// <summary>The dotnet host the test runs under (so a test run with another SDK starts the same one).</summary>
    public static string Dotnet
    {
        get
        {
            var d = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return string.IsNullOrEmpty(d) || !File.Exists(d) ? "dotnet" : d;
        }
    }

    /// <summary>Everything printed so far, stderr lines prefixed with "stderr: ".</summary>
    public string Output => string.Join("\n", _lines);

    public static CliProcess Start(string dll, IEnumerable<string> args, string? workDir = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(Dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (workDir is not null)
        {
            psi.WorkingDirectory = workDir;
        }

        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        var p = new CliProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                p._lines.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                p._lines.Enqueue("stderr: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return p;
    }

    /// <summary>All output so far, once a line starting with <paramref name="start"/> was printed; fails (naming <paramref name="context"/>) if the process exits or 90 s pass first.</summary>
    public async Task<string> WaitForLineAsync(string start, string context = "process")
    {
        var clock = Stopwatch.StartNew();
        while (!_lines.Any(l => l.StartsWith(start, StringComparison.Ordinal)))
        {
            Assert.False(_process.HasExited, $"{context}: exited {(_process.HasExited ? _process.ExitCode : 0)} before '{start}'\n{Output}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"{context}: no '{start}' line in 90 s\n{Output}");
            await Task.Delay(100);
        }

        return Output;
    }

    /// <summary>SIGTERM, as systemd stops it; the exit code.</summary>
    public async Task<int> StopAsync()
    {
        var kill = ProcessRunner.Run("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        Assert.Equal(0, kill.ExitCode);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
