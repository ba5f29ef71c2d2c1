using TrustPool.Agent;
using TrustPool.Agent.Hosting;

namespace TrustPool.AgentHost;

/// <summary>
/// <c>trustpool-agent</c>: the trust agent as a standalone (Native AOT) executable. Same options, configuration
/// layering, output and exit codes as <c>trustpool agent</c>, both run <see cref="AgentRunner"/>. Options are parsed
/// by hand (no System.CommandLine) to keep the executable small; <c>--opt value</c> and <c>--opt=value</c> both work.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help" or "-?"))
        {
            Console.Out.Write(Help);
            return AgentRunner.ExitOk;
        }

        var errors = new List<string>();
        var overrides = Parse(args, errors);
        var options = AgentRunner.LoadOptions(overrides, errors);
        if (options is null || errors.Count > 0)
        {
            AgentRunner.PrintErrors(errors);
            return AgentRunner.ExitUsage;
        }

        return AgentRunner.RunAsync(options).GetAwaiter().GetResult();
    }

    /// <summary>Command-line options to configuration overrides; unknown or incomplete options go to <paramref name="errors"/>.</summary>
    internal static Dictionary<string, string?> Parse(IReadOnlyList<string> args, List<string> errors)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var eq = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=', StringComparison.Ordinal) : -1;
            var name = eq < 0 ? arg : arg[..eq];
            var spec = AgentRunner.CommandLineOptions.FirstOrDefault(o => string.Equals(o.Option, name, StringComparison.Ordinal));
            if (spec.Option is null)
            {
                errors.Add(arg.StartsWith('-') ? $"{name}: unknown option (see --help)" : $"'{arg}': unexpected argument (see --help)");
                continue;
            }

            if (!spec.HasValue)
            {
                if (eq >= 0)
                {
                    errors.Add($"{name}: takes no value");
                    continue;
                }

                overrides[spec.Key] = "true";
                continue;
            }

            string? value;
            if (eq >= 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                errors.Add($"{name}: a value is required");
                continue;
            }

            overrides[spec.Key] = value;
        }

        return overrides;
    }

    private static readonly string Help = $$"""
        trustpool-agent: run the trust agent (serves TPM identity, credential activation and quotes over mutual TLS)

        Usage: trustpool-agent --tpm BACKEND [options]

          --tpm BACKEND              device:/dev/tpmrm0, swtpm:HOST:PORT or software:STATE_FILE
          --urls URLS                https URL(s) to listen on, ';'-separated (default {{AgentDefaults.Urls}});
                                     a path in the URL is the agent's path base
          --service-ca PEM           CA certificate(s): only clients chaining to them are accepted
          --insecure-no-client-auth  accept any client (no mutual TLS); warns every minute
          --uefi-log PATH            UEFI event log sent with quotes
          --ima-log PATH             IMA measurement list sent incrementally with quotes
          --data DIR                 TLS certificate and key directory (default {{AgentDefaults.DataDirectory}})
          --ak-alg ALG               ecc (P-256, default) or rsa (2048)
          --ek-alg ALG               EK template: rsa (L-1, RSA 2048, default) or ecc (L-2, P-256)
          --ak-handle HANDLE         persistent handle of the AK (default 0x{{AgentDefaults.AkHandle:x8}})

        Configuration layers, later wins: defaults, ./appsettings.json (section Agent),
        TRUSTPOOL__Agent__* environment variables, options. Exit codes: 0 stopped, 2 invalid configuration.

        """;
}
