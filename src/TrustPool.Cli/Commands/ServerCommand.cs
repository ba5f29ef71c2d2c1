using System.CommandLine;
using Microsoft.Extensions.Configuration;
using TrustPool.Server;
using TrustPool.Server.Hosting;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool server</c>: runs the attestation service until SIGTERM / Ctrl+C. Configuration layers, later wins:
/// defaults, <c>appsettings.json</c> (working directory), <c>TRUSTPOOL__Server__*</c> environment variables, options.
/// </summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = $"Data directory: database, CA, keys, admin token (default $TRUSTPOOL_DATA or {ServerDefaults.DataDirectory})" };
        var database = new Option<string>("--database") { Description = "sqlite:PATH (default sqlite:trustpool.db in the data directory) or postgres:CONNSTR" };
        var urls = new Option<string>("--urls") { Description = $"https URL(s) to listen on, ';'-separated (default {ServerDefaults.Urls})" };
        var ekCaDir = new Option<string>("--ek-ca-dir") { Description = "Folder of TPM vendor CA certificates (PEM/DER) that EK certificates must chain to" };
        var ekTrust = new Option<string>("--ek-trust") { Description = "ca (default: EK certificate must chain to --ek-ca-dir) or tofu (labs: trust on first use, marked in reports)" };
        var interval = new Option<int?>("--interval") { Description = $"Seconds between re-attestation rounds (default {ServerDefaults.IntervalSeconds}; 0 = on demand only)" };
        var concurrency = new Option<int?>("--concurrency") { Description = $"Attestations in flight at once (default {ServerDefaults.Concurrency})" };
        var validity = new Option<int?>("--report-validity") { Description = $"Seconds a trust report stays valid (default {ServerDefaults.ReportValiditySeconds})" };
        var timeout = new Option<int?>("--timeout") { Description = $"Per-request timeout towards agents in seconds (default {ServerDefaults.RequestTimeoutSeconds})" };
        var placement = new Option<string>("--openstack-placement") { Description = "OpenStack Placement URL: keep CUSTOM_TRUSTPOOL_* traits in sync on its resource providers" };
        var noauth = new Option<string>("--noauth-token") { Description = "Token for a Placement with auth_strategy = noauth2 (e.g. admin); visible in ps, prefer --noauth-token-file" };
        var noauthFile = new Option<string>("--noauth-token-file") { Description = "File whose first line is the Placement noauth2 token (or TRUSTPOOL__Server__PlacementNoAuthToken)" };
        var osPasswordFile = new Option<string>("--os-password-file") { Description = "File whose first line is the Keystone password (instead of OS_PASSWORD)" };
        var keystone = new Option<string>("--keystone") { Description = "Keystone v3 URL (or OS_AUTH_URL); credentials from --os-* or OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME" };
        var osUser = new Option<string>("--os-username") { Description = "Keystone user (or OS_USERNAME)" };
        var osProject = new Option<string>("--os-project-name") { Description = "Keystone project (or OS_PROJECT_NAME); the password from OS_PASSWORD or --os-password-file, never the command line" };
        var syslog = new Option<string>("--syslog") { Description = "SIEM export: tcp://HOST:PORT of a syslog receiver" };
        var syslogTls = new Option<bool>("--syslog-tls") { Description = "Syslog over TLS (RFC 5425)" };
        var syslogFormat = new Option<string>("--syslog-format") { Description = "rfc5424 (default) or cef" };
        var syslogCa = new Option<string>("--syslog-ca") { Description = "PEM CA the syslog receiver's TLS certificate must chain to" };
        var cmd = new Command("server", "Run the attestation service: enrollment, baselines, pools, continuous attestation, signed trust reports.")
        {
            syslog, syslogTls, syslogFormat, syslogCa,
            data, database, urls, ekCaDir, ekTrust, interval, concurrency, validity, timeout, placement, noauth, noauthFile, keystone, osUser, osProject, osPasswordFile,
        };
        cmd.SetAction(p =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set(string key, object? value)
            {
                if (value is not null)
                {
                    overrides[$"{ServerOptions.Section}:{key}"] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            Set(nameof(ServerOptions.DataDirectory), p.GetValue(data));
            Set(nameof(ServerOptions.Database), p.GetValue(database));
            Set(nameof(ServerOptions.Urls), p.GetValue(urls));
            Set(nameof(ServerOptions.EkCaDirectory), p.GetValue(ekCaDir));
            Set(nameof(ServerOptions.EkTrust), p.GetValue(ekTrust));
            Set(nameof(ServerOptions.IntervalSeconds), p.GetValue(interval));
            Set(nameof(ServerOptions.Concurrency), p.GetValue(concurrency));
            Set(nameof(ServerOptions.ReportValiditySeconds), p.GetValue(validity));
            Set(nameof(ServerOptions.RequestTimeoutSeconds), p.GetValue(timeout));
            Set(nameof(ServerOptions.OpenStackPlacement), p.GetValue(placement));
            Set(nameof(ServerOptions.Syslog), p.GetValue(syslog));
            Set(nameof(ServerOptions.SyslogTls), p.GetValue(syslogTls) ? "true" : null);
            Set(nameof(ServerOptions.SyslogFormat), p.GetValue(syslogFormat));
            Set(nameof(ServerOptions.SyslogCaFile), p.GetValue(syslogCa));
            Set(nameof(ServerOptions.PlacementNoAuthToken), p.GetValue(noauth));
            Set(nameof(ServerOptions.PlacementNoAuthTokenFile), p.GetValue(noauthFile));
            Set(nameof(ServerOptions.OsPasswordFile), p.GetValue(osPasswordFile));

            // Secrets on the command line still work (a noauth2 token is a lab's "admin"), but the service warns.
            var secretsOnCommandLine = new List<string>();
            if (p.GetValue(noauth) is not null)
            {
                secretsOnCommandLine.Add("--noauth-token");
            }

            if (p.GetValue(database) is { } db && ServerOptions.HasPassword(db))
            {
                secretsOnCommandLine.Add("--database");
            }

            // The usual OpenStack client variables, so an admin-openrc works as is; the password never on the command line.
            Set(nameof(ServerOptions.Keystone), p.GetValue(keystone) ?? Environment.GetEnvironmentVariable("OS_AUTH_URL"));
            Set(nameof(ServerOptions.OsUsername), p.GetValue(osUser) ?? Environment.GetEnvironmentVariable("OS_USERNAME"));
            Set(nameof(ServerOptions.OsPassword), p.GetValue(osPasswordFile) is null ? Environment.GetEnvironmentVariable("OS_PASSWORD") : null);
            Set(nameof(ServerOptions.OsProjectName), p.GetValue(osProject) ?? Environment.GetEnvironmentVariable("OS_PROJECT_NAME"));
            Set(nameof(ServerOptions.OsUserDomainName), Environment.GetEnvironmentVariable("OS_USER_DOMAIN_NAME"));
            Set(nameof(ServerOptions.OsProjectDomainName), Environment.GetEnvironmentVariable("OS_PROJECT_DOMAIN_NAME"));
            return Run(overrides, secretsOnCommandLine);
        });
        return cmd;
    }

    private static int Run(Dictionary<string, string?> overrides, IReadOnlyList<string> secretsOnCommandLine)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables("TRUSTPOOL__")
            .AddInMemoryCollection(overrides)
            .Build();
        var errors = new List<string>();
        var options = ServerOptions.FromConfiguration(configuration, errors) with { SecretsOnCommandLine = secretsOnCommandLine };
        errors.AddRange(options.Validate());
        if (errors.Count > 0)
        {
            PrintErrors(errors);
            return Program.ExitUsage;
        }

        return RunAsync(options).GetAwaiter().GetResult();
    }

    /// <summary>
    /// The start-up line about the admin token, true to what is on disk: an instance that joined a database that already
    /// had tokens (a second instance, or the data directory was replaced) has no token file of its own.
    /// </summary>
    internal static string AdminTokenLine(bool firstStart, string path, bool exists) =>
        firstStart ? $"admin token written to {path} (mode 0600)"
        : exists ? $"admin token file: {path}"
        : $"no admin token file at {path}: the database already had tokens (another instance's first start made the admin token); " +
          "use a token from that instance or create one with `trustpool token create`";

    private static void PrintErrors(IReadOnlyList<string> errors)
    {
        Console.Error.WriteLine("error: invalid server configuration:");
        foreach (var e in errors)
        {
            Console.Error.WriteLine($"  {e}");
        }
    }

    private static async Task<int> RunAsync(ServerOptions options)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        ServerHost started;
        try
        {
            started = await ServerHost.StartAsync(options);
        }
        catch (ServerConfigurationException e)
        {
            // What only shows at start (e.g. a listen address Kestrel cannot bind by name): a usage error like the rest.
            PrintErrors(e.Errors);
            return Program.ExitUsage;
        }

        await using var host = started;

        // Lines on stdout for scripts and the operator: where it listens and the files to hand out.
        Console.WriteLine($"server listening on {string.Join(", ", host.Addresses)}");
        Console.WriteLine($"service CA (agents: --service-ca; clients: --ca-file): {host.CaCertificatePath}");
        Console.WriteLine($"report-signing key: {host.ReportKeyPath} (public key at /v1/keys)");
        Console.WriteLine(AdminTokenLine(host.FirstStart, host.AdminTokenPath, File.Exists(host.AdminTokenPath)));
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return Program.ExitOk;
    }
}
