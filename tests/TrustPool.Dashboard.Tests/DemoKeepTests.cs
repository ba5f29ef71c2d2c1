using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrustPool.Testing;

namespace TrustPool.Dashboard.Tests;

/// <summary>
/// <c>trustpool demo --keep</c> as a real process, as a person runs it: it prints the dashboard's URL and a reader token,
/// and the dashboard and the API answer there until SIGTERM. No browser needed.
/// </summary>
public sealed partial class DemoKeepTests
{
    private static readonly string s_dll = Path.Combine(AppContext.BaseDirectory, "trustpool.dll");

    [Fact]
    public async Task DemoKeep_PrintsDashboardUrlAndReaderToken_DashboardServedWithCspUntilSigterm()
    {
        Assert.True(File.Exists(s_dll), $"{s_dll} was not built");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { s_dll, "demo", "--keep", "--reattest", "2" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            Match? dashboard = null;
            using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
            {
                while (dashboard is null && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                {
                    stdout.AppendLine(line);
                    if (DashboardLine().Match(line) is { Success: true } m)
                    {
                        dashboard = m;
                    }
                }
            }

            Assert.True(dashboard is not null, $"no dashboard line:\n{stdout}");
            var o = stdout.ToString();
            Assert.Matches(@"demo complete in \d+\.\d s: 5 trusted, 1 untrusted \(host-\d\d\)", o);
            var ca = Regex.Match(o, @"--ca-file (\S+ca\.pem)").Groups[1].Value;
            Assert.True(File.Exists(ca), o);
            var origin = new Uri(dashboard.Groups["origin"].Value);
            var token = dashboard.Groups["token"].Value;

            using var http = ServiceHttp.Create(origin, ca);
            using (var page = await http.GetAsync(new Uri("/", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
                var csp = string.Join(",", page.Headers.GetValues("Content-Security-Policy"));
                Assert.StartsWith("default-src 'self';", csp, StringComparison.Ordinal);
                Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
                Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
                var html = await page.Content.ReadAsStringAsync();
                Assert.Contains("<script src=\"/dashboard/app.js\"", html, StringComparison.Ordinal);
                Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=)", html);
            }

            using (var js = await http.GetAsync(new Uri("/dashboard/app.js", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, js.StatusCode);
                Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
                Assert.DoesNotContain("innerHTML", await js.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var css = await http.GetAsync(new Uri("/dashboard/app.css", UriKind.Relative)))
            {
                Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
            }

            // Unknown paths keep the service's 404 problem (MapFallback's pattern leaves out names with an extension:
            // those get a bare 404, as before the dashboard).
            using (var missing = await http.GetAsync(new Uri("/dashboard/missing", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
                Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
            }

            // The printed token reads the six demo hosts and can do nothing more.
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var hosts = JsonNode.Parse(await http.GetStringAsync(new Uri("/v1/hosts", UriKind.Relative)))!["hosts"]!.AsArray();
            Assert.Equal(6, hosts.Count);
            using (var attest = await http.PostAsync(new Uri("/v1/hosts/host-01/attest", UriKind.Relative), null))
            {
                Assert.Equal(HttpStatusCode.Forbidden, attest.StatusCode);
            }

            // --reattest 2: while kept, every host is attested again every 2 s, so reports never run out; the
            // tampered host stays untrusted because its TPM keeps reporting the modified boot.
            Assert.Contains("until Ctrl+C the demo attests every host again every 2 s", o, StringComparison.Ordinal);
            var victim = Regex.Match(o, @"1 untrusted \((host-\d\d)\)").Groups[1].Value;
            async Task<JsonArray> ReportsAsync(string host) =>
                JsonNode.Parse(await http.GetStringAsync(new Uri($"/v1/hosts/{host}/reports", UriKind.Relative)))!["reports"]!.AsArray();
            var before = (await ReportsAsync("host-01")).Count;
            var clock = Stopwatch.StartNew();
            while ((await ReportsAsync("host-01")).Count < before + 2)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"host-01 was not attested again: {before} reports");
                await Task.Delay(250);
            }

            Assert.Equal("untrusted", (await ReportsAsync(victim))[0]!["trust"]!.GetValue<string>());
            Assert.Equal("trusted", (await ReportsAsync("host-01"))[0]!["trust"]!.GetValue<string>());

            Assert.Equal(0, ProcessRunner.Run("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]).ExitCode);
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the demo did not stop on SIGTERM");
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await stderr}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [GeneratedRegex(@"^dashboard at (?<origin>https://127\.0\.0\.1:\d+)/ \(reader token: (?<token>tp_[A-Za-z0-9_-]{43})\), Ctrl\+C to stop$")]
    private static partial Regex DashboardLine();
}
