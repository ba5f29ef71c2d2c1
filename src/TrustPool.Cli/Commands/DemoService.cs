using Microsoft.Extensions.Logging;
using TrustPool.Cli.Commands.Admin;
using TrustPool.Server;
using TrustPool.Server.Hosting;

namespace TrustPool.Cli.Commands;

/// <summary>
/// The real attestation service for the demo, in this process: SQLite in the demo's directory, on-demand attestation
/// (interval 0: the demo asks), the demo vendor CA as the only EK trust anchor, and an HTTPS client that trusts only the
/// service CA and carries the admin token, as an operator's would.
/// </summary>
internal sealed class DemoService : IAsyncDisposable
{
    private DemoService(ServerHost server, ServiceClient api)
    {
        Server = server;
        Api = api;
    }

    public ServerHost Server { get; }

    /// <summary>The admin's HTTPS client; refusals throw <see cref="ServiceRefusedException"/> with the problem.</summary>
    public ServiceClient Api { get; }

    public Uri Address => Server.Addresses[0];

    public static async Task<DemoService> StartAsync(string directory, string urls, string ekCaDirectory)
    {
        var options = new ServerOptions
        {
            Urls = urls,
            DataDirectory = Path.Combine(directory, "service"),
            Database = "sqlite:trustpool.db",
            EkCaDirectory = ekCaDirectory,
            EkTrust = "ca",
            IntervalSeconds = 0,
            RequestTimeoutSeconds = 20,
            Retries = 0,
            // A checkpoint whenever the log grew: the walk-through's audit step must see every record it just wrote.
            CheckpointIntervalSeconds = 0,
        };
        // Only errors, on stderr: the walk-through owns stdout.
        var server = await ServerHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Error).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        try
        {
            var token = (await File.ReadAllTextAsync(server.AdminTokenPath)).Trim();
            return new DemoService(server, ServiceClient.Create(server.Addresses[0], token, server.CaCertificatePath));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Server.DisposeAsync();
    }
}
