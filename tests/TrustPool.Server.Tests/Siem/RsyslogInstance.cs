using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Siem;

/// <summary>
/// A private rsyslogd (Debian's, not the system one) listening on a loopback TCP port and writing every message
/// verbatim to a file, as ../shared/RUNBOOK.md describes. Can be stopped and started again on the same port.
/// </summary>
public sealed class RsyslogInstance : IDisposable
{
    private readonly string _rsyslogd;
    private readonly string _dir;
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

    public void Run()
    {
        var psi = new ProcessStartInfo(_rsyslogd, ["-f", Path.Combine(_dir, "rsyslog.conf"), "-i", Path.Combine(_dir, "rsyslogd.pid"), "-n"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        _process = Process.Start(psi)!;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>SIGTERM and wait: rsyslog flushes and closes its connections.</summary>
    public void Stop()
    {
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

    public IReadOnlyList<string> Lines() =>
        File.Exists(ReceivedFile) ? File.ReadAllLines(ReceivedFile).Where(l => l.Length > 0).ToList() : [];

    public void Dispose() => Stop();
}
