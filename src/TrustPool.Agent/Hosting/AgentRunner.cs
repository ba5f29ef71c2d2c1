using System.Runtime;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;

namespace TrustPool.Agent.Hosting;

/// <summary>
/// The agent as a process, shared by <c>trustpool agent</c> and the standalone <c>trustpool-agent</c> executable:
/// layers the configuration (defaults, <c>appsettings.json</c> in the working directory, <c>TRUSTPOOL__Agent__*</c>
/// environment variables, command-line overrides; later wins), reports every error at once, then runs
/// <see cref="AgentHost"/> until SIGTERM / Ctrl+C. No reflection: safe under trimming and Native AOT.
/// </summary>
public static class AgentRunner
{
    /// <summary>Exit code after a clean stop.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code for invalid options or configuration (ARCHITECTURE.md: 2 = usage).</summary>
    public const int ExitUsage = 2;

    /// <summary>
    /// The command-line options both executables accept, as (option, <see cref="AgentOptions"/> key, takes a value).
    /// A flag without a value sets its key to <c>true</c>.
    /// </summary>
    public static IReadOnlyList<(string Option, string Key, bool HasValue)> CommandLineOptions { get; } =
    [
        ("--tpm", nameof(AgentOptions.Tpm), true),
        ("--urls", nameof(AgentOptions.Urls), true),
        ("--service-ca", nameof(AgentOptions.ServiceCa), true),
        ("--insecure-no-client-auth", nameof(AgentOptions.InsecureNoClientAuth), false),
        ("--uefi-log", nameof(AgentOptions.UefiLog), true),
        ("--ima-log", nameof(AgentOptions.ImaLog), true),
        ("--data", nameof(AgentOptions.DataDirectory), true),
        ("--ak-alg", nameof(AgentOptions.AkAlgorithm), true),
        ("--ek-alg", nameof(AgentOptions.EkAlgorithm), true),
        ("--ak-handle", nameof(AgentOptions.AkHandle), true),
    ];

    /// <summary>
    /// Builds the layered configuration with <paramref name="overrides"/> (keys as <see cref="AgentOptions"/>
    /// property names, <c>null</c> values ignored) on top, and reads and validates <see cref="AgentOptions"/>.
    /// </summary>
    /// <returns>The options, or <c>null</c> with <paramref name="errors"/> listing every problem.</returns>
    public static AgentOptions? LoadOptions(IEnumerable<KeyValuePair<string, string?>> overrides, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        ArgumentNullException.ThrowIfNull(errors);
        var layered = overrides.Where(kv => kv.Value is not null)
            .Select(kv => new KeyValuePair<string, string?>($"{AgentOptions.Section}:{kv.Key}", kv.Value));
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables("TRUSTPOOL__")
            .AddInMemoryCollection(layered)
            .Build();
        var start = errors.Count;
        var options = AgentOptions.FromConfiguration(configuration, errors);
        errors.AddRange(options.Validate());
        return errors.Count > start ? null : options;
    }

    /// <summary>
    /// Loads the options (see <see cref="LoadOptions"/>); on errors prints them all to stderr and returns
    /// <see cref="ExitUsage"/>. Otherwise runs the agent until SIGTERM / Ctrl+C and returns <see cref="ExitOk"/>.
    /// </summary>
    public static int Run(IEnumerable<KeyValuePair<string, string?>> overrides)
    {
        var errors = new List<string>();
        var options = LoadOptions(overrides, errors);
        if (options is null)
        {
            PrintErrors(errors);
            return ExitUsage;
        }

        return RunAsync(options).GetAwaiter().GetResult();
    }

    /// <summary>Prints <c>error: invalid agent configuration:</c> and one indented line per error to stderr.</summary>
    public static void PrintErrors(IEnumerable<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        Console.Error.WriteLine("error: invalid agent configuration:");
        foreach (var e in errors)
        {
            Console.Error.WriteLine($"  {e}");
        }
    }

    /// <summary>
    /// Starts the agent, prints <c>agent listening on URLS tls-sha256 FINGERPRINT</c> on stdout, compacts the heap once
    /// and waits for SIGTERM / Ctrl+C.
    /// </summary>
    public static async Task<int> RunAsync(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
            await using var host = await AgentHost.StartAsync(options);

            // One line on stdout for scripts and the enrolling operator: where, and which certificate to pin.
            Console.WriteLine($"agent listening on {string.Join(", ", host.Addresses)} tls-sha256 {host.TlsFingerprint}");

            // Issue 4 (idle RSS): start-up garbage (configuration, DI graph, certificate and AK set-up) is dead now and
            // the agent then idles for long stretches. One compacting, decommitting full collection gives that memory
            // back once, instead of leaving it committed until enough allocation triggers a gen2 collection. Done here,
            // in the process that owns the runtime, not in AgentHost, which also runs inside tests and `bench agent`.
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            return ExitOk;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
