using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TrustPool.Dashboard.Tests;

/// <summary>
/// The trust dashboard in a real browser against <c>trustpool demo --keep</c>: what it shows is compared host by host
/// with the /v1 API under the same reader token, and with what the demo did (five hosts trusted, one tampered).
/// </summary>
[Trait("Category", "Integration")]
public sealed class DashboardBrowserTests(DemoDashboardFixture demo, ITestOutputHelper output) : IClassFixture<DemoDashboardFixture>
{
    /// <summary>Set to a path (e.g. docs/dashboard.png) to keep a copy of the grid screenshot there as well.</summary>
    private const string ScreenshotVariable = "TRUSTPOOL_DASHBOARD_SCREENSHOT";

    private const string TilesScript = """
        () => [...document.querySelectorAll('#hosts-grid .tile')].map(t => ({
          host: t.dataset.host, trust: t.dataset.trust, classes: t.className, background: getComputedStyle(t).backgroundColor }))
        """;

    [SkippableFact]
    public async Task Grid_DemoState_OneTilePerHostColouredByItsTrust()
    {
        demo.Require();
        await demo.EnsureFreshReportsAsync();
        var (context, page) = await demo.NewPageAsync();
        await using var _ = context;
        var consoleErrors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                consoleErrors.Add(m.Text);
            }
        };

        await LogInAsync(page, demo.Kept.ReaderToken);
        var tiles = await TilesAsync(page, DemoDashboardFixture.HostCount);
        var api = await TrustByHostAsync();

        // The demo's state, as the API tells it: six hosts, the tampered one untrusted, the others trusted.
        Assert.Equal(demo.Kept.Hosts.Order(StringComparer.Ordinal), api.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("untrusted", api[demo.Kept.Victim]);
        Assert.Equal(5, api.Values.Count(t => t == "trusted"));

        Assert.Equal(api.Keys.Order(StringComparer.Ordinal), tiles.Select(t => t.Host).Order(StringComparer.Ordinal));
        foreach (var t in tiles)
        {
            Assert.Equal(api[t.Host], t.Trust);
            Assert.Contains("trust-" + api[t.Host], t.Classes.Split(' '));
            Assert.Equal(api[t.Host] == "trusted" ? "rgb(46, 125, 50)" : "rgb(198, 40, 40)", t.Background);
        }

        Assert.Equal(demo.Kept.Victim, Assert.Single(tiles, t => t.Trust == "untrusted").Host);
        Assert.Equal(5, tiles.Count(t => t.Trust == "trusted" && t.Background == "rgb(46, 125, 50)"));
        // A CSP violation or a failed request would show here (the page uses no inline script or style).
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
    }

    [SkippableFact]
    public async Task HostPage_TamperedHost_ShowsPcr0FaultWithTheFirmwareBlobEvent()
    {
        demo.Require();
        await demo.EnsureFreshReportsAsync();
        var (context, page) = await demo.NewPageAsync();
        await using var _ = context;
        await LogInAsync(page, demo.Kept.ReaderToken);
        await TilesAsync(page, DemoDashboardFixture.HostCount);

        await page.ClickAsync($"#hosts-grid .tile[data-host='{demo.Kept.Victim}']");
        await page.WaitForSelectorAsync($"[data-view='host'][data-host='{demo.Kept.Victim}'] #faults");
        Assert.Equal($"#/host/{demo.Kept.Victim}", new Uri(page.Url).Fragment);
        Assert.Equal("untrusted", await page.GetAttributeAsync("[data-view='host'] h2 .badge", "data-trust"));

        var shown = await page.Locator("#faults li.fault[data-code='PcrMismatch'] .message").AllTextContentsAsync();
        var message = Assert.Single(shown);
        Assert.Matches(@"^PCR\[0\] sha256 expected [0-9a-f]{8}\.\. got [0-9a-f]{8}\.\.; first differing event #2 EV_EFI_PLATFORM_FIRMWARE_BLOB$", message);
        Assert.Contains("PCR[0]", message, StringComparison.Ordinal);
        Assert.Contains("EV_EFI_PLATFORM_FIRMWARE_BLOB", message, StringComparison.Ordinal);

        // The same fault the signed report carries, and the PCR table marks PCR 0 against the platform baseline.
        var report = (await demo.ReadAsync($"/v1/hosts/{demo.Kept.Victim}"))["report"]!;
        var fault = report["pools"]!.AsArray().SelectMany(p => p!["rules"]!.AsArray()).SelectMany(r => r!["faults"]!.AsArray())
            .First(f => f!["code"]!.GetValue<string>() == "PcrMismatch")!;
        Assert.Equal(fault["message"]!.GetValue<string>(), message);
        var pcr0 = page.Locator("#pcrs tr[data-pcr='sha256:0'].mismatch");
        Assert.Equal(1, await pcr0.CountAsync());
        var row = await pcr0.InnerTextAsync();
        Assert.Contains(fault["actual"]!.GetValue<string>(), row, StringComparison.Ordinal);
        Assert.Contains(fault["expected"]!.GetValue<string>(), row, StringComparison.Ordinal);
        Assert.Contains("MISMATCH", row, StringComparison.Ordinal);
        // PCRs the tampering did not touch match their baselines.
        Assert.True(await page.Locator("#pcrs tr.match").CountAsync() > 0);

        // The 24 h timeline has the host's reports, the last one (now) red.
        Assert.Equal("untrusted", await page.Locator("#timeline rect[data-trust]").Last.GetAttributeAsync("data-trust"));
        await SaveArtifactAsync(page, "dashboard-host.png");
    }

    [SkippableFact]
    public async Task Views_PoolsPlacementsEvacuationsAudit_ShowWhatTheApiSays()
    {
        demo.Require();
        await demo.EnsureFreshReportsAsync();
        var (context, page) = await demo.NewPageAsync();
        await using var _ = context;
        await LogInAsync(page, demo.Kept.ReaderToken);

        await page.ClickAsync("#nav a[data-view='pools']");
        await page.WaitForSelectorAsync("#pools");
        foreach (var p in (await demo.ReadAsync("/v1/pools"))["pools"]!.AsArray())
        {
            var row = await page.Locator($"#pools tr[data-pool='{p!["name"]!.GetValue<string>()}']").InnerTextAsync();
            foreach (var h in p["trustedHosts"]!.AsArray())
            {
                Assert.Contains(h!.GetValue<string>(), row, StringComparison.Ordinal);
            }

            Assert.DoesNotContain(demo.Kept.Victim, row, StringComparison.Ordinal);
        }

        await SaveArtifactAsync(page, "dashboard-pools.png");

        await page.ClickAsync("#nav a[data-view='placements']");
        await page.WaitForSelectorAsync("#placements");
        var placements = (await demo.ReadAsync("/v1/placements"))["placements"]!.AsArray();
        Assert.Equal(placements.Count, await page.Locator("#placements tbody tr").CountAsync());
        var placementsText = await page.Locator("#placements").InnerTextAsync();
        Assert.All(placements, p => Assert.Contains($"{p!["workload"]!.GetValue<string>()}\t{p["host"]!.GetValue<string>()}", placementsText, StringComparison.Ordinal));
        await SaveArtifactAsync(page, "dashboard-placements.png");

        await page.ClickAsync("#nav a[data-view='evacuations']");
        await page.WaitForSelectorAsync("#evacuations");
        var items = (await demo.ReadAsync("/v1/evacuations"))["items"]!.AsArray();
        Assert.NotEmpty(items);
        var rows = await page.Locator("#evacuations tbody tr").AllInnerTextsAsync();
        Assert.Equal(items.Count, rows.Count);
        Assert.All(items, i => Assert.Contains(rows, r => r.StartsWith($"{i!["workload"]!.GetValue<string>()}\t{demo.Kept.Victim}\t{i["proposedHost"]!.GetValue<string>()}", StringComparison.Ordinal)));
        await SaveArtifactAsync(page, "dashboard-evacuations.png");

        await page.ClickAsync("#nav a[data-view='audit']");
        await page.WaitForSelectorAsync("#checkpoint");
        var note = await page.Locator("#checkpoint").InnerTextAsync();
        var lines = note.Split('\n');
        Assert.Matches(@"^\d+$", lines[1]);
        Assert.True(long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) > 0, note);
        Assert.Contains(lines.Skip(3), l => l.StartsWith("\u2014 ", StringComparison.Ordinal));
        await SaveArtifactAsync(page, "dashboard-audit.png");
    }

    [SkippableFact]
    public async Task PoolFilter_EuTrusted_OnlyGermanHostsTrustedInThatPool()
    {
        demo.Require();
        await demo.EnsureFreshReportsAsync();
        var (context, page) = await demo.NewPageAsync();
        await using var _ = context;
        await LogInAsync(page, demo.Kept.ReaderToken);
        await TilesAsync(page, DemoDashboardFixture.HostCount);

        await page.SelectOptionAsync("#pool-filter", "eu-trusted");
        await page.WaitForFunctionAsync("() => document.querySelector('#hosts-summary')?.textContent.includes('trusted in pool eu-trusted')");
        var shown = (await TilesAsync(page, null)).Select(t => t.Host).Order(StringComparer.Ordinal).ToList();

        var pool = (await demo.ReadAsync("/v1/pools"))["pools"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "eu-trusted")!;
        var members = pool["trustedHosts"]!.AsArray().Select(h => h!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        var hosts = (await demo.ReadAsync("/v1/hosts"))["hosts"]!.AsArray().ToDictionary(h => h!["name"]!.GetValue<string>(), h => h!);
        var german = hosts.Where(h => h.Value["tags"]?["country"]?.GetValue<string>() == "DE").Select(h => h.Key).ToHashSet();

        Assert.Equal(members, shown);
        Assert.NotEmpty(shown);
        Assert.DoesNotContain(demo.Kept.Victim, shown);
        Assert.All(shown, h => Assert.Contains(h, german));
        // Every German host but the tampered one; no French host.
        Assert.Equal(german.Where(h => h != demo.Kept.Victim).Order(StringComparer.Ordinal), shown);
        Assert.True(shown.Count < hosts.Count);

        // The tag filter on its own: country=FR shows the French hosts, trusted or not.
        await page.SelectOptionAsync("#pool-filter", "");
        await page.SelectOptionAsync("#tag-filter", "country=FR");
        await page.WaitForFunctionAsync("() => document.querySelector('#hosts-summary')?.textContent.endsWith('(tag country=FR)')");
        var french = hosts.Where(h => h.Value["tags"]?["country"]?.GetValue<string>() == "FR").Select(h => h.Key).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(french);
        Assert.Equal(french, (await TilesAsync(page, null)).Select(t => t.Host).Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task Login_WrongToken_RefusedWithAMessageAndNoGrid()
    {
        demo.Require();
        var (context, page) = await demo.NewPageAsync();
        await using var _ = context;
        await LogInAsync(page, "tp_" + new string('A', 43), expectGrid: false);

        var error = page.Locator("#login-error");
        await error.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
        Assert.Matches("^Token refused: the service answered 401 ", await error.InnerTextAsync());
        Assert.True(await page.Locator("#login-form").IsVisibleAsync());
        Assert.False(await page.Locator("#nav").IsVisibleAsync());
        Assert.Equal(0, await page.Locator("#hosts-grid").CountAsync());
        Assert.Equal(0, await page.Locator(".tile").CountAsync());
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('trustpool.token')"));

        // The right token afterwards gets in.
        await LogInAsync(page, demo.Kept.ReaderToken);
        Assert.False(await error.IsVisibleAsync());
    }

    [SkippableFact]
    public async Task Grid_Screenshot_SavedAsTestArtifact()
    {
        demo.Require();
        await demo.EnsureFreshReportsAsync();
        var (context, page) = await demo.NewPageAsync();
        await using var _ = context;
        await LogInAsync(page, demo.Kept.ReaderToken);
        var tiles = await TilesAsync(page, DemoDashboardFixture.HostCount);
        Assert.Single(tiles, t => t.Trust == "untrusted");

        var path = await SaveArtifactAsync(page, "dashboard.png");
        var png = await File.ReadAllBytesAsync(path);
        Assert.True(png.Length > 10_000, $"{path}: only {png.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        if (Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } copy)
        {
            File.Copy(path, copy, overwrite: true);
            output.WriteLine($"copied to {copy}");
        }
    }

    /// <summary>A full-page screenshot under the test's output folder (TestResults/NAME), its path printed.</summary>
    private async Task<string> SaveArtifactAsync(IPage page, string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
        return path;
    }

    private async Task LogInAsync(IPage page, string token, bool expectGrid = true)
    {
        await page.GotoAsync(demo.Kept.Origin + "#/hosts");
        await page.FillAsync("#token", token);
        await page.ClickAsync("#login-button");
        if (expectGrid)
        {
            await page.WaitForSelectorAsync("#hosts-grid");
        }
    }

    /// <summary>All tiles in one read (the grid is redrawn by polling), once there are <paramref name="count"/> of them if given.</summary>
    private static async Task<List<Tile>> TilesAsync(IPage page, int? count)
    {
        if (count is { } n)
        {
            await page.WaitForFunctionAsync($"() => document.querySelectorAll('#hosts-grid .tile').length === {n}");
        }

        var json = await page.EvaluateAsync<JsonElement>(TilesScript);
        return [.. json.EnumerateArray().Select(t => new Tile(t.GetProperty("host").GetString()!, t.GetProperty("trust").GetString()!,
            t.GetProperty("classes").GetString()!, t.GetProperty("background").GetString()!))];
    }

    private async Task<Dictionary<string, string>> TrustByHostAsync() =>
        (await demo.ReadAsync("/v1/hosts"))["hosts"]!.AsArray()
            .ToDictionary(h => h!["name"]!.GetValue<string>(), h => h!["trust"]!.GetValue<string>(), StringComparer.Ordinal);

    private sealed record Tile(string Host, string Trust, string Classes, string Background);
}
