using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using TrustPool.Cli.Commands;
using TrustPool.Testing;

namespace TrustPool.Dashboard.Tests;

/// <summary>
/// Runs <c>trustpool demo --keep</c> (6 hosts, one tampered) in this process once for the test class, keeps its service
/// up through the demo's whileKept hook, and launches the distribution's Chromium (never a downloaded browser) trusting
/// exactly the service's TLS key.
/// </summary>
public sealed class DemoDashboardFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    public const int HostCount = 6;

    private readonly TaskCompletionSource<DemoKept> _kept = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<int>? _demo;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private HttpClient? _reader;
    private HttpClient? _admin;
    private Exception? _startFailure;

    internal DemoKept Kept { get; private set; } = null!;

    /// <summary>base64 SHA-256 of the service certificate's SubjectPublicKeyInfo, as Chromium's SPKI allow-list wants it.</summary>
    public string ServiceSpki { get; private set; } = "";

    public static bool ChromiumInstalled => File.Exists(Chromium);

    public async Task InitializeAsync()
    {
        if (!ChromiumInstalled)
        {
            return; // every test skips (or fails under TRUSTPOOL_REQUIRE_INTEGRATION=1) on its own gate
        }

        try
        {
            _demo = Task.Run(() => DemoCommand.RunAsync(HostCount, keep: true, "https://127.0.0.1:0", async kept =>
            {
                _kept.TrySetResult(kept);
                await _release.Task;
            }));
            if (await Task.WhenAny(_kept.Task, _demo, Task.Delay(TimeSpan.FromMinutes(4))) != _kept.Task)
            {
                throw new InvalidOperationException(_demo.IsCompleted
                    ? $"the demo ended (exit {(_demo.IsCompletedSuccessfully ? _demo.Result : -1)}) before keeping the service: {_demo.Exception?.GetBaseException().Message}"
                    : "the demo did not reach --keep in 4 minutes");
            }

            Kept = await _kept.Task;
            _reader = Client(Kept.ReaderToken);
            _admin = Client((await File.ReadAllTextAsync(Kept.AdminTokenPath)).Trim());
            using (var health = await _reader.GetAsync(new Uri("/healthz", UriKind.Relative)))
            {
                health.EnsureSuccessStatusCode();
            }

            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args =
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    // Not --ignore-certificate-errors: only this service's key is accepted (the demo's CA is not in Chromium's store).
                    $"--ignore-certificate-errors-spki-list={ServiceSpki}",
                ],
            });
        }
        catch (Exception e)
        {
            _startFailure = e;
        }
    }

    /// <summary>Gate for every test: skips without Chromium (fails under TRUSTPOOL_REQUIRE_INTEGRATION=1), fails if the demo did not start.</summary>
    public void Require()
    {
        Integration.SkipOrFailUnless(ChromiumInstalled, $"{Chromium} is not installed (scripts/test.sh installs the chromium package)");
        if (_startFailure is not null)
        {
            throw new InvalidOperationException("the demo or the browser did not start: " + _startFailure.Message, _startFailure);
        }
    }

    /// <summary>A fresh browser context (its own sessionStorage) with one page.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> NewPageAsync()
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        context.SetDefaultTimeout(20_000);
        return (context, await context.NewPageAsync());
    }

    /// <summary>GET on the /v1 API with the same reader token the dashboard uses.</summary>
    public async Task<JsonNode> ReadAsync(string path)
    {
        var text = await _reader!.GetStringAsync(new Uri(path, UriKind.Relative));
        return JsonNode.Parse(text)!;
    }

    /// <summary>
    /// Attestation is on demand in the demo and a report is valid for 300 s (ServerDefaults.ReportValiditySeconds): if
    /// any is about to expire (a slow machine), every host is attested again. The tampered host stays tampered.
    /// </summary>
    public async Task EnsureFreshReportsAsync()
    {
        var hosts = (await ReadAsync("/v1/hosts"))["hosts"]!.AsArray();
        var soon = DateTimeOffset.UtcNow.AddSeconds(120);
        if (hosts.All(h => h!["validTo"] is { } v && v.GetValue<DateTimeOffset>() > soon))
        {
            return;
        }

        foreach (var h in hosts)
        {
            using var r = await _admin!.PostAsync(new Uri($"/v1/hosts/{h!["name"]!.GetValue<string>()}/attest", UriKind.Relative), null);
            r.EnsureSuccessStatusCode();
        }
    }

    /// <summary>HTTPS to the demo service, trusting only its CA; records the SPKI pin of the certificate it presents.</summary>
    private HttpClient Client(string token) =>
        ServiceHttp.Create(Kept.Origin, Kept.CaCertificatePath, token,
            onTrusted: leaf => ServiceSpki = Convert.ToBase64String(SHA256.HashData(leaf.PublicKey.ExportSubjectPublicKeyInfo())));

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        _reader?.Dispose();
        _admin?.Dispose();
        _release.TrySetResult();
        if (_demo is not null)
        {
            try
            {
                await _demo.WaitAsync(TimeSpan.FromMinutes(1));
            }
            catch (Exception) when (_startFailure is not null)
            {
            }
        }
    }
}
