using Microsoft.Extensions.Configuration;
using Npgsql;
using TrustPool.Tpm.Options;

namespace TrustPool.Server;

/// <summary>Defaults of the attestation service, in one place.</summary>
public static class ServerDefaults
{
    public const string Urls = "https://0.0.0.0:8443";
    public const string DataDirectory = "/var/lib/trustpool";
    public const string Database = "sqlite:trustpool.db";
    public const string EkTrust = "ca";
    public const int IntervalSeconds = 60;
    public const int Concurrency = 64;
    public const double Jitter = 0.1;
    public const int RequestTimeoutSeconds = 10;
    public const int Retries = 2;

    /// <summary>A report outlives a few missed rounds, then the host turns unknown.</summary>
    public const int ReportValiditySeconds = 300;

    /// <summary>Issue 5: a nonce is single use and expires after 60 s.</summary>
    public const int NonceLifetimeSeconds = 60;

    public const string CaFile = "ca.pem";
    public const string ReportKeyFile = "report-signing.key";
    public const string AdminTokenFile = "admin.token";
}

/// <summary>
/// The service's configuration. Sources, later wins: <see cref="ServerDefaults"/>, <c>appsettings.json</c>,
/// environment variables <c>TRUSTPOOL__Server__…</c>, the command line. <see cref="Validate"/> reports every error at once.
/// </summary>
public sealed record ServerOptions
{
    public const string Section = "Server";

    public string Urls { get; init; } = ServerDefaults.Urls;

    public string DataDirectory { get; init; } = Environment.GetEnvironmentVariable("TRUSTPOOL_DATA") ?? ServerDefaults.DataDirectory;

    /// <summary><c>sqlite:PATH</c> (relative to the data directory) or <c>postgres:CONNSTR</c>.</summary>
    public string Database { get; init; } = ServerDefaults.Database;

    /// <summary>Folder of PEM/DER TPM vendor CA certificates that EK certificates must chain to.</summary>
    public string? EkCaDirectory { get; init; }

    /// <summary><c>ca</c> (EK certificate must chain to <see cref="EkCaDirectory"/>) or <c>tofu</c> (labs: accept any EK, marked in every report).</summary>
    public string EkTrust { get; init; } = ServerDefaults.EkTrust;

    /// <summary>Re-attest every host this often; 0 turns the background loop off (attest on demand only).</summary>
    public int IntervalSeconds { get; init; } = ServerDefaults.IntervalSeconds;

    public int Concurrency { get; init; } = ServerDefaults.Concurrency;

    /// <summary>Fraction of the interval over which a round's attestations are spread at random.</summary>
    public double Jitter { get; init; } = ServerDefaults.Jitter;

    public int RequestTimeoutSeconds { get; init; } = ServerDefaults.RequestTimeoutSeconds;

    public int Retries { get; init; } = ServerDefaults.Retries;

    public int ReportValiditySeconds { get; init; } = ServerDefaults.ReportValiditySeconds;

    /// <summary>Identifies this instance in polling leases (several instances may share one PostgreSQL).</summary>
    public string InstanceId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>OpenStack Placement endpoint to keep CUSTOM_TRUSTPOOL_* traits in sync on (off when null).</summary>
    public string? OpenStackPlacement { get; init; }

    /// <summary>
    /// Token for a Placement running <c>auth_strategy = noauth2</c> (e.g. <c>admin</c>); otherwise Keystone is used.
    /// Prefer <see cref="PlacementNoAuthTokenFile"/> or <c>TRUSTPOOL__Server__PlacementNoAuthToken</c>: a command line
    /// is readable by every local user.
    /// </summary>
    public string? PlacementNoAuthToken { get; init; }

    /// <summary>File holding <see cref="PlacementNoAuthToken"/> (first line; mode 0600, owned by the service user).</summary>
    public string? PlacementNoAuthTokenFile { get; init; }

    /// <summary>Keystone v3 URL and password credentials (OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, domains).</summary>
    public string? Keystone { get; init; }

    public string? OsUsername { get; init; }

    public string? OsPassword { get; init; }

    /// <summary>File holding <see cref="OsPassword"/> (first line), instead of <c>OS_PASSWORD</c>.</summary>
    public string? OsPasswordFile { get; init; }

    public string? OsProjectName { get; init; }

    public string OsUserDomainName { get; init; } = "Default";

    public string OsProjectDomainName { get; init; } = "Default";

    /// <summary>Full Placement reconcile period in seconds (ARCHITECTURE.md: every 5 minutes).</summary>
    public int PlacementReconcileSeconds { get; init; } = 300;

    /// <summary>A new audit checkpoint is signed on request when the log grew and the last one is at least this old (0 = always).</summary>
    public int CheckpointIntervalSeconds { get; init; } = 10;

    /// <summary>SIEM export: <c>tcp://HOST:PORT</c> of a syslog receiver (off when null).</summary>
    public string? Syslog { get; init; }

    /// <summary>Syslog over TLS (RFC 5425); the receiver's certificate must chain to <see cref="SyslogCaFile"/> or the system store.</summary>
    public bool SyslogTls { get; init; }

    /// <summary><c>rfc5424</c> (default) or <c>cef</c> (ArcSight).</summary>
    public string SyslogFormat { get; init; } = "rfc5424";

    public string? SyslogCaFile { get; init; }

    /// <summary>
    /// The options whose secret was given on the command line (set by <c>trustpool server</c>): every local user can
    /// read a process's arguments (<c>ps</c>, <c>/proc/PID/cmdline</c>), so the service warns at start-up. Names only.
    /// </summary>
    public IReadOnlyList<string> SecretsOnCommandLine { get; init; } = [];

    public bool EkTrustOnFirstUse => string.Equals(EkTrust, "tofu", StringComparison.OrdinalIgnoreCase);

    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);

    public TimeSpan ReportValidity => TimeSpan.FromSeconds(ReportValiditySeconds);

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(RequestTimeoutSeconds);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"Urls: '{url}' is not an absolute https URL (the service serves only TLS)");
            }
            else if (u.Host is not ("localhost" or "*" or "+") && !System.Net.IPAddress.TryParse(u.Host.Trim('[', ']'), out _))
            {
                // Kestrel binds addresses, not names: refuse a host name here rather than after the data directory was set up.
                errors.Add($"Urls: '{url}': the host must be an IP address (0.0.0.0 for all), localhost, * or +");
            }
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("DataDirectory: required");
        }

        if (!Database.StartsWith("sqlite:", StringComparison.Ordinal) && !Database.StartsWith("postgres:", StringComparison.Ordinal))
        {
            errors.Add($"Database: '{Redact(Database)}' is not sqlite:PATH or postgres:CONNSTR");
        }

        if (!string.Equals(EkTrust, "ca", StringComparison.OrdinalIgnoreCase) && !EkTrustOnFirstUse)
        {
            errors.Add($"EkTrust: '{EkTrust}' is not ca or tofu");
        }
        else if (!EkTrustOnFirstUse && EkCaDirectory is null)
        {
            errors.Add("EkCaDirectory: required with EkTrust=ca (the TPM vendor CA certificates); use --ek-trust tofu only in labs");
        }

        if (EkCaDirectory is not null && !Directory.Exists(EkCaDirectory))
        {
            errors.Add($"EkCaDirectory: '{EkCaDirectory}' does not exist");
        }

        OptionParser.CheckRange(errors, nameof(IntervalSeconds), IntervalSeconds, 0, 86_400);
        OptionParser.CheckRange(errors, nameof(Concurrency), Concurrency, 1, 10_000);
        OptionParser.CheckRange(errors, nameof(Jitter), Jitter, 0, 1);
        OptionParser.CheckRange(errors, nameof(RequestTimeoutSeconds), RequestTimeoutSeconds, 1, 600);
        OptionParser.CheckRange(errors, nameof(Retries), Retries, 0, 10);
        OptionParser.CheckRange(errors, nameof(CheckpointIntervalSeconds), CheckpointIntervalSeconds, 0, 86_400);
        OptionParser.CheckRange(errors, nameof(ReportValiditySeconds), ReportValiditySeconds, 1, 30 * 86_400);

        if (Syslog is not null)
        {
            try
            {
                _ = Siem.SyslogTarget.Parse(Syslog, SyslogTls, SyslogFormat, SyslogCaFile);
            }
            catch (ArgumentException e)
            {
                errors.Add("Syslog: " + e.Message.Split(" (Parameter", 2)[0]);
            }

            if (SyslogCaFile is not null && !File.Exists(SyslogCaFile))
            {
                errors.Add($"SyslogCaFile: '{SyslogCaFile}' does not exist");
            }
        }

        if (OpenStackPlacement is not null)
        {
            if (!Uri.TryCreate(OpenStackPlacement, UriKind.Absolute, out var p) || (p.Scheme != Uri.UriSchemeHttp && p.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"OpenStackPlacement: '{OpenStackPlacement}' is not an http(s) URL");
            }

            var noAuth = PlacementNoAuthToken is not null || PlacementNoAuthTokenFile is not null;
            var password = OsPassword is not null || OsPasswordFile is not null;
            if (!noAuth && (Keystone is null || OsUsername is null || !password || OsProjectName is null))
            {
                errors.Add("OpenStackPlacement: needs --noauth-token-file FILE (or --noauth-token TOKEN), or --keystone URL with --os-username, " +
                           "--os-project-name and the password in OS_PASSWORD or --os-password-file FILE");
            }

            if (Keystone is not null && !Uri.TryCreate(Keystone, UriKind.Absolute, out _))
            {
                errors.Add($"Keystone: '{Keystone}' is not a URL");
            }

            OptionParser.CheckRange(errors, nameof(PlacementReconcileSeconds), PlacementReconcileSeconds, 5, 86_400);
        }

        CheckSecretFile(nameof(PlacementNoAuthToken), PlacementNoAuthToken, PlacementNoAuthTokenFile, errors);
        CheckSecretFile(nameof(OsPassword), OsPassword, OsPasswordFile, errors);
        return errors;
    }

    /// <summary>The Placement noauth2 token: the first line of <see cref="PlacementNoAuthTokenFile"/> when set, else <see cref="PlacementNoAuthToken"/>.</summary>
    public string? ReadPlacementNoAuthToken() => PlacementNoAuthTokenFile is { } f ? ReadSecretFile(f) : PlacementNoAuthToken;

    /// <summary>The Keystone password: the first line of <see cref="OsPasswordFile"/> when set, else <see cref="OsPassword"/>.</summary>
    public string? ReadOsPassword() => OsPasswordFile is { } f ? ReadSecretFile(f) : OsPassword;

    /// <summary>A secret file holds at most this many bytes (a token or a password, not a key store).</summary>
    public const int MaxSecretFileBytes = 4096;

    private static void CheckSecretFile(string key, string? value, string? file, List<string> errors)
    {
        if (file is null)
        {
            return;
        }

        if (value is not null)
        {
            errors.Add($"{key}File: give {key} either inline or as a file, not both");
        }

        try
        {
            _ = ReadSecretFile(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // The message names the file and the problem, never the content.
            errors.Add($"{key}File: {e.Message}");
        }
    }

    /// <summary>The first line of a secret file, without its line end; refuses an empty or oversized file.</summary>
    private static string ReadSecretFile(string file)
    {
        var info = new FileInfo(file);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"'{file}' does not exist", file);
        }

        if (info.Length > MaxSecretFileBytes)
        {
            throw new InvalidDataException($"'{file}' is larger than {MaxSecretFileBytes} bytes");
        }

        var text = File.ReadAllText(file);
        var line = text.Split('\n', 2)[0].TrimEnd('\r');
        if (line.Trim().Length == 0)
        {
            throw new InvalidDataException($"'{file}' is empty (the secret is its first line)");
        }

        return line;
    }

    /// <summary>
    /// A database string without its secrets, for messages and logs. A PostgreSQL connection string is parsed as
    /// Npgsql parses it (so <c>Password</c>, <c>PWD</c>, <c>PSW</c>, any case, spaces, quotes all count) and written
    /// back with the password and SSL key password replaced by <c>***</c>; a string that does not parse is not shown
    /// at all, since nobody can tell which part of it is the password.
    /// </summary>
    public static string Redact(string database)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (database.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            return database;
        }

        var prefix = database.StartsWith("postgres:", StringComparison.Ordinal) ? "postgres:" : "";
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(database[prefix.Length..]);
            if (builder.Password is not null)
            {
                builder.Password = "***";
            }

            if (builder.SslPassword is not null)
            {
                builder.SslPassword = "***";
            }

            return prefix + builder.ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return prefix + "(connection string not shown: it does not parse)";
        }
    }

    /// <summary>True when <paramref name="database"/> is a PostgreSQL connection string carrying a password (or one that does not parse).</summary>
    public static bool HasPassword(string database)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (!database.StartsWith("postgres:", StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(database["postgres:".Length..]);
            return builder.Password is not null || builder.SslPassword is not null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>Reads the <c>Server</c> section; values that do not parse are added to <paramref name="errors"/>.</summary>
    public static ServerOptions FromConfiguration(IConfiguration configuration, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(errors);
        var s = configuration.GetSection(Section);
        var p = new OptionParser(k => s[k], errors);
        var o = new ServerOptions();
        return o with
        {
            Urls = p.GetString(nameof(Urls), o.Urls),
            DataDirectory = p.GetString(nameof(DataDirectory), o.DataDirectory),
            Database = p.GetString(nameof(Database), o.Database),
            EkCaDirectory = p.GetString(nameof(EkCaDirectory), o.EkCaDirectory),
            EkTrust = p.GetString(nameof(EkTrust), o.EkTrust),
            IntervalSeconds = p.GetInt(nameof(IntervalSeconds), o.IntervalSeconds),
            Concurrency = p.GetInt(nameof(Concurrency), o.Concurrency),
            Jitter = p.GetDouble(nameof(Jitter), o.Jitter),
            RequestTimeoutSeconds = p.GetInt(nameof(RequestTimeoutSeconds), o.RequestTimeoutSeconds),
            Retries = p.GetInt(nameof(Retries), o.Retries),
            ReportValiditySeconds = p.GetInt(nameof(ReportValiditySeconds), o.ReportValiditySeconds),
            InstanceId = p.GetString(nameof(InstanceId), o.InstanceId),
            OpenStackPlacement = p.GetString(nameof(OpenStackPlacement), o.OpenStackPlacement),
            Syslog = p.GetString(nameof(Syslog), o.Syslog),
            SyslogTls = p.GetBool(nameof(SyslogTls), o.SyslogTls),
            SyslogFormat = p.GetString(nameof(SyslogFormat), o.SyslogFormat),
            SyslogCaFile = p.GetString(nameof(SyslogCaFile), o.SyslogCaFile),
            PlacementNoAuthToken = p.GetString(nameof(PlacementNoAuthToken), o.PlacementNoAuthToken),
            PlacementNoAuthTokenFile = p.GetString(nameof(PlacementNoAuthTokenFile), o.PlacementNoAuthTokenFile),
            Keystone = p.GetString(nameof(Keystone), o.Keystone),
            OsUsername = p.GetString(nameof(OsUsername), o.OsUsername),
            OsPassword = p.GetString(nameof(OsPassword), o.OsPassword),
            OsPasswordFile = p.GetString(nameof(OsPasswordFile), o.OsPasswordFile),
            OsProjectName = p.GetString(nameof(OsProjectName), o.OsProjectName),
            OsUserDomainName = p.GetString(nameof(OsUserDomainName), o.OsUserDomainName),
            OsProjectDomainName = p.GetString(nameof(OsProjectDomainName), o.OsProjectDomainName),
            PlacementReconcileSeconds = p.GetInt(nameof(PlacementReconcileSeconds), o.PlacementReconcileSeconds),
            CheckpointIntervalSeconds = p.GetInt(nameof(CheckpointIntervalSeconds), o.CheckpointIntervalSeconds),
        };
    }
}
