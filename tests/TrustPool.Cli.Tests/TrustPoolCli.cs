using System.Globalization;
using System.Text.Json;
using TrustPool.Testing;

namespace TrustPool.Cli.Tests;

/// <summary>Runs the built <c>trustpool</c> CLI (copied beside the test assembly) as a real process.</summary>
public static class TrustPoolCli
{
    public static string DllPath
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "trustpool.dll");
            if (File.Exists(beside))
            {
                return beside;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TrustPool.sln")))
                {
#if DEBUG
                    const string configuration = "Debug";
#else
                    const string configuration = "Release";
#endif
                    return Path.Combine(dir.FullName, "src", "TrustPool.Cli", "bin", configuration, "net10.0", "trustpool.dll");
                }
            }

            throw new FileNotFoundException("trustpool.dll not found");
        }
    }

    public static ProcessResult Run(params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(dotnet) || !File.Exists(dotnet))
        {
            dotnet = "dotnet";
        }

        return ProcessRunner.Run(dotnet, [DllPath, .. args], timeout: TimeSpan.FromSeconds(120));
    }

    /// <summary>bank -> index -> lower-case hex, from a {"pcrs": ...} document.</summary>
    public static SortedDictionary<string, SortedDictionary<int, string>> PcrsFromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var result = new SortedDictionary<string, SortedDictionary<int, string>>(StringComparer.Ordinal);
        foreach (var bank in doc.RootElement.GetProperty("pcrs").EnumerateObject())
        {
            var b = new SortedDictionary<int, string>();
            foreach (var pcr in bank.Value.EnumerateObject())
            {
                b[int.Parse(pcr.Name, CultureInfo.InvariantCulture)] = pcr.Value.GetString()!;
            }

            result[bank.Name] = b;
        }

        return result;
    }

    /// <summary>The final "pcrs:" section of tpm2_eventlog's YAML: bank -> index -> lower-case hex.</summary>
    public static SortedDictionary<string, SortedDictionary<int, string>> PcrsFromTpm2EventlogYaml(string yaml)
    {
        var result = new SortedDictionary<string, SortedDictionary<int, string>>(StringComparer.Ordinal);
        var lines = yaml.Split('\n');
        var start = Array.FindIndex(lines, l => l.TrimEnd() == "pcrs:");
        if (start < 0)
        {
            return result;
        }

        SortedDictionary<int, string>? current = null;
        foreach (var raw in lines.Skip(start + 1))
        {
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                continue;
            }

            if (!line.StartsWith(' '))
            {
                break;
            }

            var trimmed = line.Trim();
            if (trimmed.EndsWith(':'))
            {
                current = [];
                result[trimmed[..^1]] = current;
                continue;
            }

            var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
            var value = trimmed[(colon + 1)..].Trim();
            if (current is null || colon < 0 || !value.StartsWith("0x", StringComparison.Ordinal))
            {
                throw new FormatException($"unexpected pcrs line '{line}'");
            }

            current[int.Parse(trimmed[..colon].Trim(), CultureInfo.InvariantCulture)] = value[2..].ToLowerInvariant();
        }

        return result;
    }

    public static string Describe(SortedDictionary<string, SortedDictionary<int, string>> pcrs) =>
        string.Join("\n", pcrs.SelectMany(b => b.Value.Select(p => $"{b.Key}[{p.Key}]={p.Value}")));
}
