using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using TrustPool.Evidence.Uefi;
using TrustPool.Testing;
using Xunit.Abstractions;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 14, item 3: the OpenAPI document is a contract a standard generator can use. Microsoft's Kiota (the local
/// dotnet tool in .config/dotnet-tools.json) generates a C# client from the live <c>/openapi/v1.json</c>; a small
/// console program built against it enrolls a host, imports baselines, creates a pool, attests and reads the report,
/// through the generated client only, and prints one JSON line per step, which this test checks against the service.
/// </summary>
[Trait("Category", "Integration")]
public sealed class GeneratedClientTests(ITestOutputHelper output)
{
    private const string HostName = "kiota-1";

    private static readonly TimeSpan s_budget = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task KiotaClient_EnrollImportPoolAttestReport_HostTrustedWithStoredReport()
    {
        using var cts = new CancellationTokenSource(s_budget);
        var ct = cts.Token;
        await using var h = await ServiceHarness.StartAsync("sqlite");
        var host = h.AddSoftwareHost(HostName, new SimulatedBoot());
        var work = TestTemp.CreateDirectory("tp-kiota-").FullName;
        var repo = RepoRoot();

        using (var anonymous = h.NewClient(null))
        {
            await File.WriteAllTextAsync(Path.Combine(work, "v1.json"), await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), ct), ct);
        }

        // The tool manifest lives in the repository: restore and run it from there (both are no-ops once cached).
        await RunAsync("tool restore", repo, ct, "tool", "restore");
        await RunAsync("kiota generate", repo, ct, "kiota", "generate", "-l", "CSharp", "-d", Path.Combine(work, "v1.json"),
            "-o", Path.Combine(work, "probe", "Client"), "-c", "TrustPoolClient", "-n", "TrustPool.Generated",
            "--exclude-backward-compatible", "--clean-output", "--log-level", "Warning");

        var probe = Path.Combine(work, "probe");
        WriteProbeProject(probe, repo);
        // Errors about Stream results or Action<RequestConfiguration> bodies mean the document has no schema for that
        // operation's response or request body (OpenApiContractTests lists every such gap).
        await RunAsync("probe build", probe, ct, "build", "-c", "Release", "-nologo", "-v", "m", "-clp:ErrorsOnly;NoSummary", "-nodeReuse:false", "-p:UseSharedCompilation=false");

        // Secrets stay off command lines: the token in a 0600 file, both paths in the environment.
        var tokenFile = Path.Combine(work, "token");
        File.WriteAllText(tokenFile, "");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await File.WriteAllTextAsync(tokenFile, h.AdminToken, ct);
        Dictionary<string, string> Env(string caFile) => new()
        {
            ["TRUSTPOOL_URL"] = h.Server.Addresses[0].ToString(),
            ["TRUSTPOOL_CA_FILE"] = caFile,
            ["TRUSTPOOL_TOKEN_FILE"] = tokenFile,
            ["PROBE_HOST"] = HostName,
            ["PROBE_AGENT_URL"] = host.AgentUrl.ToString(),
            ["PROBE_AGENT_FINGERPRINT"] = host.Fingerprint,
        };
        string[] dll = ["bin/Release/net10.0/TrustPoolClientProbe.dll"];

        // The probe trusts the service CA only: with another CA it must refuse the service and change nothing.
        var otherCa = Path.Combine(work, "other-ca.pem");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=Not the TrustPool service CA", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(otherCa, ca.ExportCertificatePem(), ct);
        }

        var refused = await RunAsync("probe run, other CA", probe, ct, dll, Env(otherCa), mustSucceed: false);
        Assert.True(refused.ExitCode == 2 && refused.Output.Contains("RemoteCertificateValidationCallback", StringComparison.Ordinal),
            $"the probe did not refuse a service outside its CA:\n{refused.Output}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await h.SendAsync(HttpMethod.Get, $"/v1/hosts/{HostName}")).Status);

        var run = (await RunAsync("probe run", probe, ct, dll, Env(h.Server.CaCertificatePath))).Output;
        output.WriteLine(run);

        var steps = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var line in run.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('{') && JsonNode.Parse(line) is JsonObject o && o["step"]?.GetValue<string>() is { } step)
            {
                steps[step] = o;
            }
        }

        string Field(string step, string name)
        {
            Assert.True(steps.TryGetValue(step, out var s), $"the probe printed no '{step}' step:\n{run}");
            Assert.Null(s["error"]);
            return s[name]?.ToString() ?? throw new Xunit.Sdk.XunitException($"step '{step}' has no '{name}':\n{run}");
        }

        Assert.Equal("enrolled", Field("enroll", "state"));
        Assert.Equal("ca", Field("enroll", "ekTrust"));
        Assert.Equal("kiota-os,kiota-platform", Field("import", "baselines"));
        Assert.Equal("kiota", Field("pool", "name"));
        Assert.Equal("trusted", Field("attest", "trust"));
        Assert.Equal("trusted", Field("report", "trust"));
        Assert.Equal("trusted", Field("report", "currentTrust"));
        var reportId = Field("attest", "id");
        Assert.Equal(reportId, Field("report", "id"));

        // What the service stores, asked without the generated client.
        var stored = await h.OkAsync(HttpMethod.Get, $"/v1/hosts/{HostName}");
        Assert.Equal(reportId, stored["report"]!["id"]!.GetValue<string>());
        Assert.Equal("trusted", stored["report"]!["trust"]!.GetValue<string>());
        Assert.Equal(reportId, (await h.OkAsync(HttpMethod.Get, $"/v1/reports/{reportId}"))["id"]!.GetValue<string>());
        var pool = await h.OkAsync(HttpMethod.Get, "/v1/pools/kiota");
        Assert.Equal("kiota", pool["name"]!.GetValue<string>());
    }

    /// <summary>A console project outside the repository (no Directory.*.props of ours apply) that compiles the generated client.</summary>
    private static void WriteProbeProject(string dir, string repo)
    {
        Directory.CreateDirectory(dir);

        // Same SDK as the repository; an empty Directory.Build.props stops MSBuild looking further up the temp path.
        File.Copy(Path.Combine(repo, "global.json"), Path.Combine(dir, "global.json"), overwrite: true);
        File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(dir, "Directory.Packages.props"), "<Project />\n");

        // The Kiota runtime packages at the versions pinned centrally in the repository's Directory.Packages.props.
        var pins = XDocument.Load(Path.Combine(repo, "Directory.Packages.props")).Descendants("PackageVersion")
            .Where(p => ((string?)p.Attribute("Include"))?.StartsWith("Microsoft.Kiota.", StringComparison.Ordinal) == true)
            .Select(p => $"    <PackageReference Include=\"{(string?)p.Attribute("Include")}\" Version=\"{(string?)p.Attribute("Version")}\" />")
            .ToList();
        Assert.True(pins.Count >= 6, "Directory.Packages.props pins no Microsoft.Kiota.* runtime packages");
        File.WriteAllText(Path.Combine(dir, "TrustPoolClientProbe.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <InvariantGlobalization>true</InvariantGlobalization>
                <SatelliteResourceLanguages>en</SatelliteResourceLanguages>
                <!-- Generated code is not ours to lint. -->
                <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
                <NoWarn>$(NoWarn);CS8618;CS8632;CS1591</NoWarn>
              </PropertyGroup>
              <ItemGroup>
            {string.Join('\n', pins)}
              </ItemGroup>
            </Project>

            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), ProbeProgram);
    }

    /// <summary>
    /// The probe: only the generated <c>TrustPoolClient</c> talks to the service. Request bodies are target-typed
    /// (<c>new() { ... }</c>) so the program depends on the wire names of the document (operation paths, JSON property
    /// names), not on the C# names the service gives its request and response records.
    /// </summary>
    private const string ProbeProgram = """
        using System.Net.Security;
        using System.Security.Cryptography.X509Certificates;
        using System.Text.Json;
        using Microsoft.Kiota.Abstractions;
        using Microsoft.Kiota.Abstractions.Authentication;
        using Microsoft.Kiota.Http.HttpClientLibrary;
        using TrustPool.Generated;

        var url = new Uri(Need("TRUSTPOOL_URL"));
        var token = File.ReadAllText(Need("TRUSTPOOL_TOKEN_FILE")).Trim();
        var host = Need("PROBE_HOST");

        // Trust exactly the service CA: a custom root store, no system roots, and the name must match.
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(Need("TRUSTPOOL_CA_FILE"));
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            },
        };
        using var http = KiotaClientFactory.Create(handler);
        var auth = new BaseBearerTokenAuthenticationProvider(new StaticToken(token, url.Host));
        var adapter = new HttpClientRequestAdapter(auth, httpClient: http) { BaseUrl = url.ToString().TrimEnd('/') };
        var client = new TrustPoolClient(adapter);

        await Step("enroll", async () =>
        {
            var enrolled = await client.V1.Hosts.PostAsync(new()
            {
                Name = host,
                AgentUrl = Need("PROBE_AGENT_URL"),
                AgentCertFingerprint = Need("PROBE_AGENT_FINGERPRINT"),
            });
            return new { name = enrolled?.Name, state = Text(enrolled?.State), ekTrust = Text(enrolled?.EkTrust) };
        });
        await Step("import", async () =>
        {
            var imported = await client.V1.Baselines.Import.PostAsync(new() { FromHost = host, Kinds = ["platform", "os"], Name = "kiota" });
            return new { baselines = string.Join(',', (imported?.Baselines ?? []).Select(b => b.Name).Order(StringComparer.Ordinal)) };
        });
        await Step("pool", async () =>
        {
            var pool = await client.V1.Pools.PostAsync(new() { Name = "kiota", Require = new() { Platform = ["kiota-platform"], Os = ["kiota-os"] } });
            return new { name = pool?.Name };
        });
        await Step("attest", async () =>
        {
            var report = await client.V1.Hosts[host].Attest.PostAsync();
            return new { id = report?.Id, trust = Text(report?.Trust) };
        });
        await Step("report", async () =>
        {
            var report = await client.V1.Hosts[host].Report.GetAsync();
            return new { id = report?.Id, trust = Text(report?.Trust), currentTrust = Text(report?.CurrentTrust) };
        });
        return 0;

        static string Need(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : throw new InvalidOperationException($"{name} is not set");

        // A string or a generated enum, as the wire spells it (Kiota enums are PascalCase in C#).
        static string? Text(object? value) => value?.ToString()?.ToLowerInvariant();

        static async Task Step<T>(string step, Func<Task<T>> call)
        {
            try
            {
                var result = JsonSerializer.SerializeToElement(await call());
                var line = new Dictionary<string, object?> { ["step"] = step };
                foreach (var p in result.EnumerateObject())
                {
                    line[p.Name] = p.Value;
                }

                Console.WriteLine(JsonSerializer.Serialize(line));
            }
            catch (ApiException e)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { step, error = e.GetType().Name + ": " + e.Message, status = e.ResponseStatusCode }));
                Environment.Exit(1);
            }
            catch (HttpRequestException e)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { step, error = e.Message + " " + e.InnerException?.Message }));
                Environment.Exit(2);
            }
        }

        sealed class StaticToken(string token, string host) : IAccessTokenProvider
        {
            public AllowedHostsValidator AllowedHostsValidator { get; } = new([host]);

            public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
                Task.FromResult(AllowedHostsValidator.IsUrlHostValid(uri) ? token : "");
        }

        """;

    private Task<(int ExitCode, string Output)> RunAsync(string what, string dir, CancellationToken ct, params string[] args) => RunAsync(what, dir, ct, args, null);

    /// <summary>Runs <c>dotnet ARGS</c> in <paramref name="dir"/>: its exit code and stdout (with stderr when it failed); a failure that must not happen throws with both.</summary>
    private async Task<(int ExitCode, string Output)> RunAsync(string what, string dir, CancellationToken ct, string[] args, IDictionary<string, string>? env, bool mustSucceed = true)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["KIOTA_TUTORIAL_ENABLED"] = "false";
        psi.Environment["KIOTA_OFFLINE_ENABLED"] = "true"; // no update check
        psi.Environment["KIOTA_CLI_TELEMETRY_OPTOUT"] = "true";
        psi.Environment["KIOTA_CONSOLE_COLORS_ENABLED"] = "false";
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var watch = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{what} did not finish within the test's {s_budget.TotalMinutes} minutes\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }

        var text = await stdout;
        var errors = await stderr;
        output.WriteLine($"{what}: exit {p.ExitCode} in {watch.Elapsed.TotalSeconds:F1} s");
        if (p.ExitCode != 0 && mustSucceed)
        {
            throw new Xunit.Sdk.XunitException($"{what} (dotnet {string.Join(' ', args)}) failed with exit {p.ExitCode}\nstdout:\n{text}\nstderr:\n{errors}");
        }

        return (p.ExitCode, p.ExitCode == 0 ? text : text + "\n" + errors);
    }

    /// <summary>The repository root: the folder above the test binaries that holds TrustPool.sln.</summary>
    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "TrustPool.sln")) && File.Exists(Path.Combine(d.FullName, ".config", "dotnet-tools.json")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException($"no TrustPool.sln with .config/dotnet-tools.json above {AppContext.BaseDirectory}");
    }
}
