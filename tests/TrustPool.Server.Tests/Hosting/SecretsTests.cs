using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Hosting;
using TrustPool.Server.Tests.EndToEnd;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Hosting;

/// <summary>Issue 13, hole 7: database passwords are redacted in every Npgsql spelling; tokens and passwords come from files.</summary>
public sealed class SecretsTests : IDisposable
{
    private const string Secret = "s3cr-et;x";
    private readonly DirectoryInfo _dir = TestTemp.CreateDirectory("tp-secrets-");

    [Theory]
    [InlineData("postgres:Host=db;Username=tp;Password=s3cr;Database=tp")]
    [InlineData("postgres:Host=db;Username=tp;password=s3cr")]
    [InlineData("postgres:Host=db;PWD=s3cr;Database=tp")]
    [InlineData("postgres:Host=db;pwd=s3cr")]
    [InlineData("postgres:Host=db;PSW=s3cr")]
    [InlineData("postgres:Host=db; Password = s3cr ;Database=tp")]
    [InlineData("postgres:Host=db;Password='s3cr;Database=x'")]
    [InlineData("postgres:Host=db;Password=\"s3cr;Database=x\"")]
    [InlineData("postgres:Password=s3cr;Host=db")]
    [InlineData("postgres:Host=db;SSL Password=s3cr")]
    [InlineData("Host=db;PWD=s3cr")] // the operator forgot "postgres:": Validate quotes it in its error
    public void Redact_EveryPasswordSpelling_Hidden(string database)
    {
        var redacted = ServerOptions.Redact(database);
        Assert.DoesNotContain("s3cr", redacted, StringComparison.Ordinal);
        Assert.Contains("Host=db", redacted, StringComparison.Ordinal);
        Assert.Contains("***", redacted, StringComparison.Ordinal);
        Assert.True(ServerOptions.HasPassword("postgres:" + database.Replace("postgres:", "", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("postgres:Host=db;Password=s3cr;Frobnicate=1")]
    [InlineData("postgres:Host=db;Password='s3cr")]
    [InlineData("postgres:Password=s3cr;;=")]
    [InlineData("mysql://u:s3cr@db/x")]
    public void Redact_DoesNotParse_NothingShown(string database)
    {
        var redacted = ServerOptions.Redact(database);
        Assert.DoesNotContain("s3cr", redacted, StringComparison.Ordinal);
        Assert.Contains("not shown", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_NoPasswordOrSqlite_Unchanged()
    {
        Assert.Equal("sqlite:trustpool.db", ServerOptions.Redact("sqlite:trustpool.db"));
        Assert.Contains("Host=db", ServerOptions.Redact("postgres:Host=db;Username=tp"), StringComparison.Ordinal);
        Assert.False(ServerOptions.HasPassword("postgres:Host=db;Username=tp;Passfile=/etc/trustpool/pgpass"));
        Assert.False(ServerOptions.HasPassword("sqlite:Password=x.db"));
    }

    [Fact]
    public void Validate_BadDatabaseWithPassword_ErrorDoesNotShowIt()
    {
        var errors = new ServerOptions { Database = "Host=db;PWD=s3cr", EkTrust = "tofu" }.Validate();
        Assert.Contains(errors, e => e.StartsWith("Database:", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain("s3cr", e, StringComparison.Ordinal));
    }

    private string SecretFile(string content)
    {
        var path = Path.Combine(_dir.FullName, Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void SecretFiles_FirstLineWithoutLineEnd_Used()
    {
        var o = new ServerOptions { PlacementNoAuthTokenFile = SecretFile(Secret + "\r\nsecond line\n"), OsPasswordFile = SecretFile(Secret) };
        Assert.Equal(Secret, o.ReadPlacementNoAuthToken());
        Assert.Equal(Secret, o.ReadOsPassword());
        Assert.Equal("inline", new ServerOptions { PlacementNoAuthToken = "inline" }.ReadPlacementNoAuthToken());
    }

    [Fact]
    public void Validate_SecretFileProblems_EachNamedWithoutContent()
    {
        var o = new ServerOptions
        {
            EkTrust = "tofu",
            OpenStackPlacement = "http://127.0.0.1:9/",
            PlacementNoAuthToken = "inline",
            PlacementNoAuthTokenFile = SecretFile(Secret),
            OsPasswordFile = Path.Combine(_dir.FullName, "absent"),
        };
        var errors = o.Validate();
        Assert.Contains("PlacementNoAuthTokenFile: give PlacementNoAuthToken either inline or as a file, not both", errors);
        Assert.Contains(errors, e => e.StartsWith("OsPasswordFile: ", StringComparison.Ordinal) && e.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(new ServerOptions { EkTrust = "tofu", OsPasswordFile = SecretFile("\n") }.Validate(), e => e.Contains("is empty", StringComparison.Ordinal));
        Assert.Contains(new ServerOptions { EkTrust = "tofu", OsPasswordFile = SecretFile(new string('x', 5000)) }.Validate(),
            e => e.Contains("larger than 4096", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain(Secret, e, StringComparison.Ordinal));

        // A token file alone is enough for Placement.
        Assert.Empty(new ServerOptions { EkTrust = "tofu", OpenStackPlacement = "http://127.0.0.1:9/", PlacementNoAuthTokenFile = SecretFile(Secret) }.Validate());
    }

    [Fact]
    public async Task Start_TokenOnCommandLine_WarnsAndNeverLogsTheSecret()
    {
        var lines = new ConcurrentQueue<string>();
        var options = new ServerOptions
        {
            Urls = "https://127.0.0.1:0",
            DataDirectory = Path.Combine(_dir.FullName, "server"),
            EkTrust = "tofu",
            IntervalSeconds = 0,
            OpenStackPlacement = "http://127.0.0.1:9/",
            PlacementNoAuthToken = Secret,
            SecretsOnCommandLine = ["--noauth-token", "--database"],
        };
        await using (var server = await ServerHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new Capture(lines))))
        {
            // Placement is down: the sync fails and logs why; the token must not be in that either.
            await Task.Delay(1500);
        }

        Assert.Contains(lines, l => l.Contains("--noauth-token was given on the command line", StringComparison.Ordinal) && l.Contains("--noauth-token-file", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("--database was given on the command line", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(Secret, StringComparison.Ordinal));
    }

    /// <summary>The token from a file reaches the real Placement (noauth2 wants "admin"): a trusted host's traits get written.</summary>
    [SkippableFact]
    [Trait("Category", "Integration")]
    public async Task Start_TokenFromFile_ReachesRealPlacement()
    {
        var url = Environment.GetEnvironmentVariable("TRUSTPOOL_TEST_PLACEMENT");
        Integration.SkipOrFailUnless(!string.IsNullOrEmpty(url), "TRUSTPOOL_TEST_PLACEMENT is not set (scripts/test.sh starts OpenStack Placement and sets it)");
        var tokenFile = SecretFile("admin\n");
        await using var h = await ServiceHarness.StartAsync("sqlite", o => o with { OpenStackPlacement = url, PlacementNoAuthTokenFile = tokenFile });
        var host = h.AddSoftwareHost($"tokenfile-{Guid.NewGuid():N}"[..18], new SimulatedBoot());
        await h.EnrollAsync(host);
        await AttestationServiceTests.ImportGoldenPoolAsync(h, host.Name);
        Assert.Equal("trusted", (await h.AttestAsync(host.Name))["trust"]!.GetValue<string>());
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonNode? placement;
        do
        {
            await Task.Delay(200);
            placement = (await h.OkAsync(HttpMethod.Get, "/readyz"))["placement"];
        }
        while (placement?["lastSuccess"] is null && DateTime.UtcNow < deadline);

        Assert.True(placement?["lastSuccess"] is not null, placement?.ToJsonString());
        Assert.True(placement!["reachable"]!.GetValue<bool>());
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private sealed class Capture(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{eventId.Id} {formatter(state, exception)} {exception}");
        }
    }
}
