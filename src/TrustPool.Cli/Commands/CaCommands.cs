using System.CommandLine;
using System.Globalization;
using System.Net;
using TrustPool.Server.Pki;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool ca init|show|issue</c>: the attestation service's CA (ServiceCa) in the data directory. Agents trust its
/// certificate (<c>--service-ca DIR/ca.pem</c>); <c>issue</c> makes certificates for operators and other components.
/// </summary>
internal static class CaCommands
{
    /// <summary>The data directory when neither <c>--data</c> nor <c>TRUSTPOOL_DATA</c> says otherwise.</summary>
    public const string DefaultDataDirectory = "/var/lib/trustpool";

    public const int DefaultDays = 365;
    public const int MaxDays = 3650;

    public static Command Create()
    {
        var ca = new Command("ca", "The attestation service's certificate authority: create, show, issue certificates.");
        ca.Subcommands.Add(CreateInit());
        ca.Subcommands.Add(CreateShow());
        ca.Subcommands.Add(CreateIssue());
        return ca;
    }

    private static Option<string> DataOption() =>
        new("--data") { Description = $"Data directory holding ca.pem and ca.key (default $TRUSTPOOL_DATA, else {DefaultDataDirectory})" };

    /// <summary><c>--data</c>, else <c>TRUSTPOOL_DATA</c>, else /var/lib/trustpool.</summary>
    internal static string DataDirectory(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return option;
        }

        var env = Environment.GetEnvironmentVariable("TRUSTPOOL_DATA");
        return string.IsNullOrWhiteSpace(env) ? DefaultDataDirectory : env;
    }

    private static Command CreateInit()
    {
        var data = DataOption();
        var cmd = new Command("init", "Create the service CA in the data directory (or load the existing one) and print its paths.") { data };
        cmd.SetAction(p => CliSupport.Run(() => Init(DataDirectory(p.GetValue(data)))));
        return cmd;
    }

    private static Command CreateShow()
    {
        var data = DataOption();
        var cmd = new Command("show", "Print the service CA's subject, fingerprint and validity.") { data };
        cmd.SetAction(p => CliSupport.Run(() => Show(DataDirectory(p.GetValue(data)))));
        return cmd;
    }

    private static Command CreateIssue()
    {
        var name = new Option<string>("--name") { Description = "Common name; the files are OUT/NAME.pem and OUT/NAME.key", Required = true };
        var server = new Option<bool>("--server") { Description = "serverAuth usage (needs --dns or --ip)" };
        var client = new Option<bool>("--client") { Description = "clientAuth usage (the default when neither is given)" };
        var dns = new Option<string[]>("--dns") { Description = "DNS subject alternative name (repeatable)" };
        var ip = new Option<string[]>("--ip") { Description = "IP address subject alternative name (repeatable)" };
        var days = new Option<int>("--days") { Description = $"Validity in days (1..{MaxDays})", DefaultValueFactory = _ => DefaultDays };
        var output = new Option<string>("--out") { Description = "Directory for NAME.pem and NAME.key (mode 0600)", Required = true };
        var data = DataOption();
        var cmd = new Command("issue", "Issue an ECDSA P-256 certificate and key signed by the service CA.") { name, server, client, dns, ip, days, output, data };
        cmd.SetAction(p => CliSupport.Run(() => Issue(DataDirectory(p.GetValue(data)), p.GetValue(name)!, p.GetValue(server), p.GetValue(client),
            p.GetValue(dns) ?? [], p.GetValue(ip) ?? [], p.GetValue(days), p.GetValue(output)!)));
        return cmd;
    }

    private static int Init(string directory)
    {
        using var ca = ServiceCa.LoadOrCreate(directory, out var created);
        Console.WriteLine($"{(created ? "created" : "loaded")} service CA in {ca.Directory}");
        Console.WriteLine($"certificate: {ca.CertificatePath}");
        Console.WriteLine($"private key: {ca.KeyPath}");
        Console.WriteLine($"sha256: {ca.Fingerprint}");
        Console.WriteLine($"agents trust it with: trustpool agent --service-ca {ca.CertificatePath} ...");
        return Program.ExitOk;
    }

    private static int Show(string directory)
    {
        using var ca = ServiceCa.Load(directory);
        var c = ca.Certificate;
        Console.WriteLine($"subject: {c.Subject}");
        Console.WriteLine($"sha256: {ca.Fingerprint}");
        Console.WriteLine($"serial: {c.SerialNumber}");
        Console.WriteLine($"not before: {Iso(c.NotBefore)}");
        Console.WriteLine($"not after: {Iso(c.NotAfter)}");
        Console.WriteLine($"certificate: {ca.CertificatePath}");
        return Program.ExitOk;
    }

    private static int Issue(string directory, string name, bool server, bool client, string[] dnsNames, string[] ipTexts, int days, string output)
    {
        if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            throw new CliUsageException($"--name '{name}' cannot be a file name");
        }

        if (days is < 1 or > MaxDays)
        {
            throw new CliUsageException($"--days {days} is not 1..{MaxDays}");
        }

        var ips = new List<IPAddress>();
        foreach (var text in ipTexts)
        {
            ips.Add(IPAddress.TryParse(text, out var a) ? a : throw new CliUsageException($"--ip '{text}' is not an IP address"));
        }

        if (!server && !client)
        {
            client = true;
        }

        if (server && dnsNames.Length == 0 && ips.Count == 0)
        {
            throw new CliUsageException("--server needs at least one --dns or --ip");
        }

        var certPath = Path.Combine(output, name + ".pem");
        var keyPath = Path.Combine(output, name + ".key");
        foreach (var path in new[] { certPath, keyPath })
        {
            if (File.Exists(path))
            {
                throw new CliUsageException($"'{path}' exists; remove it first");
            }
        }

        using var ca = ServiceCa.Load(directory);
        var (certPem, keyPem) = ca.Issue(name, server, client, dnsNames, ips, TimeSpan.FromDays(days));
        Directory.CreateDirectory(output);
        ServiceCa.WriteKeyFile(keyPath, keyPem);
        ServiceCa.WriteCertificateFile(certPath, certPem);
        Console.WriteLine($"issued CN={name} ({string.Join(", ", new[] { server ? "serverAuth" : null, client ? "clientAuth" : null }.OfType<string>())}) for {days} days");
        Console.WriteLine($"certificate: {Path.GetFullPath(certPath)}");
        Console.WriteLine($"private key: {Path.GetFullPath(keyPath)}");
        return Program.ExitOk;
    }

    private static string Iso(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
