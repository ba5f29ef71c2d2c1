using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary><c>trustpool server</c> as a real process, as systemd runs it: first-start files, HTTPS, SIGTERM, restart, config errors.</summary>
[Trait("Category", "Integration")]
public sealed class ServerCliTests
{
    private readonly string _dir = TestTemp.CreateDirectory("trustpool-server-cli-").FullName;

    [Fact]
    public async Task Server_EmptyDataDir_CreatesAndPrintsCaKeyToken_ServesHttps_SigtermExit0_RestartReusesThem()
    {
        var data = Path.Combine(_dir, "data");
        var port = FreePort();

        string caFingerprint, token;
        await using (var first = StartServer(data, port))
        {
            var stdout = await first.WaitForLineAsync("admin token ");
            var ca = Path.Combine(data, "ca.pem");
            var key = Path.Combine(data, "report-signing.key");
            var tokenFile = Path.Combine(data, "admin.token");
            Assert.Contains(ca, stdout, StringComparison.Ordinal);
            Assert.Contains(key, stdout, StringComparison.Ordinal);
            Assert.Contains($"admin token written to {tokenFile} (mode 0600)", stdout, StringComparison.Ordinal);
            Assert.Contains($"server listening on https://127.0.0.1:{port}", stdout, StringComparison.Ordinal);
            Assert.True(File.Exists(ca) && File.Exists(key) && File.Exists(tokenFile));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            }

            token = (await File.ReadAllTextAsync(tokenFile)).Trim();
            Assert.StartsWith("tp_", token, StringComparison.Ordinal);
            caFingerprint = Fingerprint(ca);

            using var http = Client(ca, port, null);
            var health = await http.GetStringAsync(new Uri("/healthz", UriKind.Relative));
            Assert.Contains("\"ok\"", health, StringComparison.Ordinal);
            using var admin = Client(ca, port, token);
            using var hosts = await admin.GetAsync(new Uri("/v1/hosts", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, hosts.StatusCode);

            Assert.Equal(0, await first.StopAsync());
        }

        var tokenText = await File.ReadAllTextAsync(Path.Combine(data, "admin.token"));
        var reportKey = await File.ReadAllBytesAsync(Path.Combine(data, "report-signing.key"));
        await using (var second = StartServer(data, port))
        {
            var stdout = await second.WaitForLineAsync("admin token ");
            Assert.Contains($"admin token file: {Path.Combine(data, "admin.token")}", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("written", stdout, StringComparison.Ordinal);
            Assert.Equal(caFingerprint, Fingerprint(Path.Combine(data, "ca.pem")));
            Assert.Equal(tokenText, await File.ReadAllTextAsync(Path.Combine(data, "admin.token")));
            Assert.Equal(reportKey, await File.ReadAllBytesAsync(Path.Combine(data, "report-signing.key")));

            // The first start's token still works, over TLS that the unchanged ca.pem still verifies.
            using var admin = Client(Path.Combine(data, "ca.pem"), port, token);
            using var hosts = await admin.GetAsync(new Uri("/v1/hosts", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, hosts.StatusCode);
            using var ready = await admin.GetAsync(new Uri("/readyz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal(0, await second.StopAsync());
        }
    }

    [Fact]
    public void Server_InvalidConfig_ListsEveryErrorExit2()
    {
        var r = Cli.Run("server", "--data", Path.Combine(_dir, "bad"), "--ek-trust", "maybe", "--urls", "http://127.0.0.1:1", "--interval", "-5", "--concurrency", "0");
        Assert.True(r.ExitCode == 2, r.ToString());
        foreach (var key in new[] { "EkTrust: 'maybe'", "Urls:", "IntervalSeconds:", "Concurrency:" })
        {
            Assert.Contains(key, r.StdErr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")), "nothing is created for an invalid configuration");
    }

    [Fact]
    public void Server_UrlWithHostName_Exit2BeforeCreatingAnything()
    {
        var r = Cli.Run("server", "--data", Path.Combine(_dir, "named"), "--ek-trust", "tofu", "--urls", "https://trustpool.example:8443");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("Urls: 'https://trustpool.example:8443': the host must be an IP address", r.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "named")), "nothing is created for an invalid configuration");
    }

    [Fact]
    public void Server_CaTrustWithoutEkCaDir_Exit2NamingEkCaDirectory()
    {
        var r = Cli.Run("server", "--data", Path.Combine(_dir, "bad"), "--ek-trust", "ca", "--urls", "https://127.0.0.1:1");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("EkCaDirectory: required with EkTrust=ca", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_ConfigLayers_AppsettingsThenEnvironmentThenOptions()
    {
        // appsettings.json in the working directory < TRUSTPOOL__Server__* < command-line options.
        var work = Directory.CreateDirectory(Path.Combine(_dir, "work")).FullName;
        File.WriteAllText(Path.Combine(work, "appsettings.json"),
            """{ "Server": { "EkTrust": "from-file", "Retries": "file-retries", "Concurrency": "0" } }""");
        var r = ProcessRunner.Run(CliProcess.Dotnet, [Path.Combine(AppContext.BaseDirectory, "trustpool.dll"), "server", "--data", Path.Combine(_dir, "env"), "--urls", "https://127.0.0.1:1",
                "--concurrency", "8"],
            new Dictionary<string, string> { ["TRUSTPOOL__Server__EkTrust"] = "sometimes", ["TRUSTPOOL__Server__Urls"] = "ftp://nowhere" },
            work, TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("EkTrust: 'sometimes'", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("Retries: 'file-retries' is not an integer", r.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("ftp://nowhere", r.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Concurrency", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_EkCaDir_StartsWithCaTrustAndIsReady()
    {
        var ekCa = Directory.CreateDirectory(Path.Combine(_dir, "ek-ca")).FullName;
        using (var key = System.Security.Cryptography.ECDsa.Create())
        {
            var request = new CertificateRequest("CN=Some TPM vendor root", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllTextAsync(Path.Combine(ekCa, "vendor-root.pem"), ca.ExportCertificatePem());
        }

        var data = Path.Combine(_dir, "data");
        var port = FreePort();
        await using var server = StartServer(data, port, "--ek-ca-dir", ekCa);
        var stdout = await server.WaitForLineAsync("admin token ");
        Assert.Contains($"1 EK CA certificate(s) loaded from {ekCa}", stdout, StringComparison.Ordinal);
        using var http = Client(Path.Combine(data, "ca.pem"), port, null);
        using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task Server_NoAuthTokenOnCommandLine_WarnsWithoutTheSecret_TokenFileUsedSilently()
    {
        const string secret = "tok-3f1e9c-not-for-ps";
        var missing = Cli.Run("server", "--data", Path.Combine(_dir, "missing"), "--ek-trust", "tofu", "--urls", "https://127.0.0.1:1",
            "--openstack-placement", "http://127.0.0.1:9/", "--noauth-token-file", Path.Combine(_dir, "no-such-token"));
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Contains("PlacementNoAuthTokenFile: ", missing.StdErr, StringComparison.Ordinal);

        // PostgreSQL on port 1 is not there: the server stops at the database, after the warnings; the password shows nowhere.
        var database = Cli.Run("server", "--data", Path.Combine(_dir, "pg"), "--ek-trust", "tofu", "--urls", "https://127.0.0.1:1",
            "--database", "postgres:Host=127.0.0.1;Port=1;Username=tp;PWD=" + secret + ";Timeout=3");
        Assert.NotEqual(0, database.ExitCode);
        Assert.Contains("--database was given on the command line", database.StdOut + database.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, database.StdOut + database.StdErr, StringComparison.Ordinal);

        var tokenFile = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(tokenFile, secret + "\n");
        var port = FreePort();
        await using (var server = StartServer(Path.Combine(_dir, "inline"), port, "--ek-trust", "tofu", "--openstack-placement", "http://127.0.0.1:9/",
                         "--noauth-token", secret))
        {
            var stdout = await server.WaitForLineAsync("admin token ");
            Assert.Contains("--noauth-token was given on the command line", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, stdout, StringComparison.Ordinal);
            Assert.Equal(0, await server.StopAsync());
        }

        port = FreePort();
        await using (var server = StartServer(Path.Combine(_dir, "file"), port, "--ek-trust", "tofu", "--openstack-placement", "http://127.0.0.1:9/",
                         "--noauth-token-file", tokenFile))
        {
            var stdout = await server.WaitForLineAsync("admin token ");
            Assert.DoesNotContain("given on the command line", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, stdout, StringComparison.Ordinal);
            Assert.Equal(0, await server.StopAsync());
        }
    }

    private static string Fingerprint(string pem)
    {
        using var cert = X509Certificate2.CreateFromPem(File.ReadAllText(pem));
        return cert.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
    }

    private static HttpClient Client(string caPem, int port, string? token) =>
        ServiceHttp.Create(new Uri($"https://127.0.0.1:{port}/"), caPem, token, TimeSpan.FromSeconds(30));

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts <c>trustpool server --data DATA --urls https://127.0.0.1:PORT --interval 0</c> with <c>--ek-trust tofu</c> unless other options are given.</summary>
    private static CliProcess StartServer(string data, int port, params string[] options) =>
        CliProcess.Start(Path.Combine(AppContext.BaseDirectory, "trustpool.dll"),
            new[] { "server", "--data", data, "--urls", $"https://127.0.0.1:{port}", "--interval", "0" }.Concat(options.Length == 0 ? ["--ek-trust", "tofu"] : options));
}
