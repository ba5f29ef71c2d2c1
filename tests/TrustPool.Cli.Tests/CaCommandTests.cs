using System.Net;
using System.Security.Cryptography.X509Certificates;
using TrustPool.Server.Pki;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary><c>trustpool ca init|show|issue</c> as a process, as an operator runs them.</summary>
public sealed class CaCommandTests
{
    private readonly string _dir = TestTemp.CreateDirectory("trustpool-ca-cli-").FullName;

    private string Data => Path.Combine(_dir, "data");

    [Fact]
    public void Init_NewDataDirectory_CreatesCa_SecondRunLoadsIt()
    {
        var first = Cli.Run("ca", "init", "--data", Data);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("created service CA", first.StdOut, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(Data, "ca.pem"), first.StdOut, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(Data, "ca.key"), first.StdOut, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Data, "ca.key")));
        }

        var pem = File.ReadAllText(Path.Combine(Data, "ca.pem"));
        var second = Cli.Run("ca", "init", "--data", Data);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("loaded service CA", second.StdOut, StringComparison.Ordinal);
        Assert.Equal(pem, File.ReadAllText(Path.Combine(Data, "ca.pem")));
    }

    [Fact]
    public void Show_ExistingCa_PrintsSubjectFingerprintValidity_MissingCa_Exit2()
    {
        Assert.Equal(0, Cli.Run("ca", "init", "--data", Data).ExitCode);
        var show = Cli.Run("ca", "show", "--data", Data);
        Assert.True(show.ExitCode == 0, show.ToString());
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(Data, "ca.pem")));
        Assert.Contains("subject: CN=TrustPool service CA", show.StdOut, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(ca.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)), show.StdOut, StringComparison.Ordinal);
        Assert.Contains("not after: " + ca.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), show.StdOut, StringComparison.Ordinal);

        var missing = Cli.Run("ca", "show", "--data", Path.Combine(_dir, "nothing-here"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("ca init", missing.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Issue_ServerWithSans_WritesChainingCertificateAndKey0600()
    {
        Assert.Equal(0, Cli.Run("ca", "init", "--data", Data).ExitCode);
        var output = Path.Combine(_dir, "out");
        var issue = Cli.Run("ca", "issue", "--name", "web1", "--server", "--dns", "web1.example", "--dns", "web1", "--ip", "10.1.2.3",
            "--days", "30", "--out", output, "--data", Data);
        Assert.True(issue.ExitCode == 0, issue.ToString());

        using var cert = X509Certificate2.CreateFromPemFile(Path.Combine(output, "web1.pem"), Path.Combine(output, "web1.key"));
        Assert.Equal("CN=web1", cert.Subject);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(output, "web1.key")));
        }

        using var ca = ServiceCa.Load(Data);
        Assert.True(ca.Issued(cert, "1.3.6.1.5.5.7.3.1"));
        Assert.False(ca.Issued(cert, "1.3.6.1.5.5.7.3.2"));
        var (dns, ips) = ServiceCa.Sans(cert);
        Assert.Equal(["web1", "web1.example"], dns.Order(StringComparer.Ordinal));
        Assert.Equal([IPAddress.Parse("10.1.2.3")], ips);
        Assert.InRange((cert.NotAfter - cert.NotBefore).TotalDays, 29.9, 30.1);

        // The files are never overwritten.
        var again = Cli.Run("ca", "issue", "--name", "web1", "--client", "--out", output, "--data", Data);
        Assert.Equal(2, again.ExitCode);
    }

    [Fact]
    public void Issue_NoUsageGiven_IssuesClientCertificate_TrustpoolDataFromEnvironment()
    {
        var env = new Dictionary<string, string> { ["NO_COLOR"] = "1", ["TRUSTPOOL_DATA"] = Data };
        var init = ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "trustpool.dll"), "ca", "init"], env, null, TimeSpan.FromSeconds(120));
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(File.Exists(Path.Combine(Data, "ca.pem")));

        var output = Path.Combine(_dir, "out");
        var issue = ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "trustpool.dll"), "ca", "issue", "--name", "ops", "--out", output],
            env, null, TimeSpan.FromSeconds(120));
        Assert.True(issue.ExitCode == 0, issue.ToString());
        using var cert = X509Certificate2.CreateFromPemFile(Path.Combine(output, "ops.pem"), Path.Combine(output, "ops.key"));
        using var ca = ServiceCa.Load(Data);
        Assert.True(ca.Issued(cert, "1.3.6.1.5.5.7.3.2"));
    }

    [Theory]
    [InlineData("--server")]
    [InlineData("--ip", "not-an-ip")]
    [InlineData("--days", "0")]
    public void Issue_BadArguments_Exit2(params string[] extra)
    {
        Assert.Equal(0, Cli.Run("ca", "init", "--data", Data).ExitCode);
        var r = Cli.Run(["ca", "issue", "--name", "x", "--out", Path.Combine(_dir, "out"), "--data", Data, .. extra]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.False(File.Exists(Path.Combine(_dir, "out", "x.key")));
    }
}
