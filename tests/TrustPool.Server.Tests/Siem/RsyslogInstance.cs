using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Siem;

/// <summary>
/// An rsyslogd (Debian's, not the system one) listening on a loopback TCP port and writing every message verbatim to
/// a file, as ../shared/RUNBOOK.md describes. Under scripts/test.sh it is the one the script started
/// (TRUSTPOOL_TEST_RSYSLOG=PORT:DIR, DIR holding rsyslog.conf, rsyslogd.pid and received.log): this class attaches to
/// it, reads only the lines that arrived after it attached, and when a test stops it, starts it again with the same
/// configuration, leaving it running for the script to stop. Without the variable it starts a private one.
/// </summary>
public sealed class RsyslogInstance : IDisposable
{
    private const string SharedVariable = "TRUSTPOOL_TEST_RSYSLOG";

    private readonly string _rsyslogd;
    private readonly string _dir;
    private bool _shared;
    private int _skip;
    private Process? _process;

    private RsyslogInstance(string rsyslogd, string dir, int port)
    {
        _rsyslogd = rsyslogd;
        _dir = dir;
        Port = port;
        ReceivedFile = Path.Combine(dir, "received.log");
    }

    public int Port { get; }

    public string ReceivedFile { get; }

    public static RsyslogInstance Start()
    {
        if (Environment.GetEnvironmentVariable(SharedVariable) is { Length: > 0 } shared)
        {
            return Attach(shared);
        }

        var rsyslogd = Integration.RequireTool("rsyslogd");
        var dir = TestTemp.CreateDirectory("tp-rsyslog-").FullName;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var r = new RsyslogInstance(rsyslogd, dir, port);
        File.WriteAllText(Path.Combine(dir, "rsyslog.conf"), $"""
            global(workDirectory="{dir}")
            module(load="imtcp")
            input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="tp")
            template(name="raw" type="string" string="%rawmsg%\n")
            ruleset(name="tp") {"{"} action(type="omfile" file="{r.ReceivedFile}" template="raw") {"}"}
            """);
        r.Run();
        return r;
    }

    private static RsyslogInstance Attach(string spec)
    {
        var rsyslogd = Integration.RequireTool("rsyslogd");
        var parts = spec.Split(':', 2);
        Assert.True(parts.Length == 2 && int.TryParse(parts[0], out _) && Directory.Exists(parts[1]), $"{SharedVariable}='{spec}' is not PORT:DIR");
        var r = new RsyslogInstance(rsyslogd, parts[1], int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)) { _shared = true };
        r.WaitListening();
        r._skip = r.AllLines().Count;
        return r;
    }

    public void Run()
    {
        // The script's instance outlives this test process: no pipes to it that would close when the tests end.
        var psi = new ProcessStartInfo(_rsyslogd, ["-f", Path.Combine(_dir, "rsyslog.conf"), "-i", Path.Combine(_dir, "rsyslogd.pid"), "-n"])
        {
            RedirectStandardError = !_shared,
            RedirectStandardOutput = !_shared,
        };
        _process = Process.Start(psi)!;
        WaitListening();
    }

    private void WaitListening()
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && _process is not { HasExited: true })
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>SIGTERM and wait: rsyslog flushes and closes its connections.</summary>
    public void Stop()
    {
        if (_process is null && _shared && File.Exists(Path.Combine(_dir, "rsyslogd.pid")))
        {
            // The script's rsyslogd: stop it by its pid file and wait until it is gone.
            var pid = File.ReadAllText(Path.Combine(_dir, "rsyslogd.pid")).Trim();
            Process.Start("kill", ["-TERM", pid])!.WaitForExit();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }

            Assert.False(Directory.Exists($"/proc/{pid}"), $"rsyslogd {pid} did not stop");
            return;
        }

        if (_process is { HasExited: false } p)
        {
            Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!p.WaitForExit(10_000))
            {
                p.Kill();
            }
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>The lines received since this instance started or attached.</summary>
    public IReadOnlyList<string> Lines() => AllLines().Skip(_skip).ToList();

    private List<string> AllLines() =>
        File.Exists(ReceivedFile) ? File.ReadAllLines(ReceivedFile).Where(l => l.Length > 0).ToList() : [];

    public void Dispose()
    {
        if (!_shared)
        {
            Stop();
            return;
        }

        // Leave the script's receiver as the test found it: running.
        if (_process is null or { HasExited: true })
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
            }
            catch (SocketException)
            {
                Run();
            }
        }

        _process?.Dispose();
    }
}
