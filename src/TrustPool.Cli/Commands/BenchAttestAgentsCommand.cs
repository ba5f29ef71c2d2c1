using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool bench attest-agents</c> (hidden): the simulated fleet of <c>bench attest</c>, in its own process so the
/// CPU split between agents and service can be measured. Starts <c>--listeners</c> agent listeners (mutual TLS against
/// the service CA) and adds <c>--hosts</c> agents round-robin at <c>/agents/host-00001/</c>..., each with its own
/// software TPM (ECC P-256 EK and AK) that booted the same ~60-event UEFI log. Prints <c>LISTENER url fingerprint</c>
/// per listener, then <c>READY</c>, and serves until stdin closes.
/// </summary>
internal static class BenchAttestAgentsCommand
{
    /// <summary>Option ROM drivers in the simulated boot: with them the UEFI log has about 60 events.</summary>
    public const int BootServicesDrivers = 35;

    public static string PathBase(int host) => string.Create(CultureInfo.InvariantCulture, $"/agents/{HostName(host)}/");

    public static string HostName(int host) => string.Create(CultureInfo.InvariantCulture, $"host-{host:D5}");

    public static Command Create()
    {
        var hosts = new Option<int>("--hosts") { Description = "Simulated agents", DefaultValueFactory = _ => 100 };
        var listeners = new Option<int>("--listeners") { Description = "HTTPS listeners the agents share", DefaultValueFactory = _ => 4 };
        var serviceCa = new Option<string>("--service-ca") { Description = "PEM CA of the service's client certificates", Required = true };
        var dir = new Option<string>("--dir") { Description = "Working directory (TLS keys, the UEFI log)", Required = true };
        var cmd = new Command("attest-agents", "Simulated agents for 'bench attest' (runs as its child process).") { hosts, listeners, serviceCa, dir };
        cmd.Hidden = true;
        cmd.SetAction(p => CliSupport.Run(() =>
        {
            var n = p.GetValue(hosts);
            var l = p.GetValue(listeners);
            if (n is < 1 or > 100_000 || l < 1 || l > n)
            {
                throw new CliUsageException("--hosts must be 1..100000 and --listeners 1..hosts");
            }

            return RunAsync(n, l, p.GetValue(serviceCa)!, p.GetValue(dir)!).GetAwaiter().GetResult();
        }));
        return cmd;
    }

    /// <summary>The simulated boot every host measures (one fleet, one golden image).</summary>
    public static SimulatedBoot Boot() => new() { BootServicesDrivers = BootServicesDrivers };

    private static async Task<int> RunAsync(int hostCount, int listenerCount, string serviceCa, string dir)
    {
        Directory.CreateDirectory(dir);
        var builder = EventLogGenerator.PlausibleBoot(new EventLogBuilder(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256), Boot());
        var log = Path.Combine(dir, "binary_bios_measurements");
        await File.WriteAllBytesAsync(log, builder.ToArray());
        var extends = builder.Extends.Select(x => ((int)x.PcrIndex, (IReadOnlyList<TpmtHa>)[.. x.Digests.Select(d => new TpmtHa(d.Key, d.Value))])).ToList();

        var listeners = new List<AgentHost>();
        try
        {
            for (var i = 0; i < listenerCount; i++)
            {
                listeners.Add(await AgentHost.StartAsync(new AgentOptions
                {
                    Urls = "https://127.0.0.1:0",
                    ServiceCa = serviceCa,
                    DataDirectory = Path.Combine(dir, "listener-" + i.ToString(CultureInfo.InvariantCulture)),
                    EkAlgorithm = "ecc",
                }, b => b.SetMinimumLevel(LogLevel.Error)));
            }

            // Simulated TPMs: ECC EK (an RSA 2048 EK per software TPM would take minutes for 10,000 hosts).
            var agentOptions = new AgentOptions { UefiLog = log, DataDirectory = dir, EkAlgorithm = "ecc" };
            for (var h = 1; h <= hostCount; h++)
            {
                var tpm = SoftwareTpm.CreateInMemory();
                foreach (var (pcr, digests) in extends)
                {
                    tpm.ExtendPcr(pcr, digests);
                }

                listeners[(h - 1) % listenerCount].AddAgent(PathBase(h), tpm, HostName(h), agentOptions);
            }

            foreach (var l in listeners)
            {
                Console.WriteLine($"LISTENER {l.Addresses[0]} {l.TlsFingerprint}");
            }

            Console.WriteLine("READY");
            await Console.Out.FlushAsync();

            // Serve until the parent closes our stdin (or dies).
            await Console.In.ReadToEndAsync();
            return Program.ExitOk;
        }
        finally
        {
            foreach (var l in listeners)
            {
                await l.DisposeAsync();
            }
        }
    }
}
