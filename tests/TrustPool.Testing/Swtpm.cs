using System.Net;
using System.Net.Sockets;

namespace TrustPool.Testing;

/// <summary>
/// A real swtpm (TPM 2.0) manufactured by swtpm_setup with an EK certificate and sha1+sha256 banks,
/// serving raw TPM commands on a loopback TCP port (ARCHITECTURE.md: TPM backend swtpm:127.0.0.1:P).
/// Tests that use one carry [Trait("Category","Integration")].
/// </summary>
public sealed class SwtpmInstance : IDisposable
{
    private readonly string _stateDir;
    private readonly string _pidFile;

    public int Port { get; }
    public string Host => "127.0.0.1";
    public string Tcti => $"swtpm:host=127.0.0.1,port={Port}";
    public string Backend => $"swtpm:127.0.0.1:{Port}";
    public string StateDir => _stateDir;

    private SwtpmInstance(string stateDir, int port)
    {
        _stateDir = stateDir;
        _pidFile = Path.Combine(stateDir, "swtpm.pid");
        Port = port;
    }

    /// <summary>Manufactures and starts a fresh swtpm; skips (or fails under TRUSTPOOL_REQUIRE_INTEGRATION=1) without it.</summary>
    public static SwtpmInstance Start(string banks = "sha1,sha256")
    {
        var swtpm = Integration.RequireTool("swtpm");
        var setup = Integration.RequireTool("swtpm_setup");
        var dir = Directory.CreateTempSubdirectory("trustpool-swtpm-").FullName;
        var r = ProcessRunner.Run(setup, ["--tpm2", "--tpmstate", dir, "--create-ek-cert", "--create-platform-cert",
            "--pcr-banks", banks, "--overwrite"], timeout: TimeSpan.FromSeconds(60));
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("swtpm_setup failed: " + r);
        }

        for (var attempt = 0; ; attempt++)
        {
            var port = FreePortPair();
            var instance = new SwtpmInstance(dir, port);
            r = ProcessRunner.Run(swtpm, ["socket", "--tpm2", "--tpmstate", $"dir={dir}",
                "--server", $"type=tcp,port={port},bindaddr=127.0.0.1",
                "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1",
                "--flags", "not-need-init,startup-clear", "--daemon", "--pid", $"file={instance._pidFile}"]);
            if (r.ExitCode == 0 && instance.WaitForPort())
            {
                return instance;
            }

            instance.Stop();
            if (attempt >= 4)
            {
                throw new InvalidOperationException("swtpm did not start: " + r);
            }
        }
    }

    private bool WaitForPort()
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        return false;
    }

    private static int FreePortPair()
    {
        for (var i = 0; i < 50; i++)
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            if (port < 65535)
            {
                try
                {
                    using var l2 = new TcpListener(IPAddress.Loopback, port + 1);
                    l2.Start();
                    l2.Stop();
                    return port;
                }
                catch (SocketException)
                {
                }
            }
        }

        throw new InvalidOperationException("no free loopback port pair");
    }

    private void Stop()
    {
        try
        {
            if (File.Exists(_pidFile) && int.TryParse(File.ReadAllText(_pidFile).Trim(), out var pid))
            {
                using var p = System.Diagnostics.Process.GetProcessById(pid);
                p.Kill();
                p.WaitForExit(5000);
            }
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Stop();
        try
        {
            Directory.Delete(_stateDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
