using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;

namespace TrustPool.Audit.Compliance;

/// <summary>
/// The compliance report (<see cref="ComplianceReportBuilder"/>) as one self-contained HTML page for an auditor: every value is
/// HTML-encoded (host and workload names come from API callers), no script, inline style only.
/// </summary>
public static class ComplianceHtml
{
    /// <summary>Content-Security-Policy for the page: nothing loads, nothing runs.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static string Render(JsonObject report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var subject = report["workload"] is { } w
            ? $"workload {S(w)}"
            : $"host {S(report["host"])} from {S(report["from"])} to {S(report["to"])}";
        var b = new StringBuilder(16 * 1024);
        b.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>TrustPool compliance report: ")
            .Append(E(subject)).Append("</title>\n<style>")
            .Append("body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}")
            .Append("table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccd;padding:.25em .6em;text-align:left;vertical-align:top}")
            .Append(".trusted{color:#146c2e;font-weight:600}.untrusted{color:#b42318;font-weight:600}.unknown{color:#666;font-weight:600}")
            .Append(".gap{background:#fdecea}code,pre{font:12px ui-monospace,monospace;word-break:break-all;white-space:pre-wrap}details{margin:.2em 0}")
            .Append("</style></head><body>\n");
        b.Append("<h1>Compliance report: ").Append(E(subject)).Append("</h1>\n");
        b.Append("<p>From the TrustPool audit log up to its signed checkpoint of size ").Append(E(S(report["checkpointSize"])))
            .Append(" (generated ").Append(E(S(report["generatedAt"]))).Append("). Every cited record carries its RFC 9162 inclusion proof; ")
            .Append("<code>trustpool audit report</code> checks the checkpoint signature and every proof offline.</p>\n");

        if (report["host"] is not null)
        {
            b.Append("<h2>Trust of the host in the interval</h2>\n");
            Reports(b, report["reports"]?.AsArray());
            Gaps(b, report["gaps"]?.AsArray());
        }

        var placements = report["placements"]?.AsArray() ?? [];
        b.Append("<h2>Placements (").Append(placements.Count).Append(")</h2>\n");
        if (placements.Count == 0)
        {
            b.Append("<p>None in the audit log.</p>\n");
        }

        foreach (var p in placements)
        {
            b.Append("<h3>").Append(E(S(p!["workload"]))).Append(" on ").Append(E(S(p["host"]))).Append("</h3>\n<table>")
                .Append("<tr><th>placement</th><td><code>").Append(E(S(p["placementId"]))).Append("</code></td></tr>")
                .Append("<tr><th>placed</th><td>").Append(E(S(p["placedAt"]))).Append("</td></tr>")
                .Append("<tr><th>released</th><td>").Append(E(p["releasedAt"] is null ? "still placed" : S(p["releasedAt"]))).Append("</td></tr>")
                .Append("<tr><th>relied on report</th><td><code>").Append(E(S(p["reportId"]))).Append("</code></td></tr></table>\n");
            Reports(b, p["reports"]?.AsArray());
            Gaps(b, p["gaps"]?.AsArray());
            Cited(b, "placement record", p["placedRecord"]);
            Cited(b, "release record", p["releasedRecord"]);
        }

        b.Append("<h2>Signed checkpoint</h2>\n<pre>").Append(E(S(report["checkpoint"]))).Append("</pre>\n")
            .Append("<details><summary>checkpoint public key</summary><pre>").Append(E(S(report["publicKey"]))).Append("</pre></details>\n")
            .Append("</body></html>\n");
        return b.ToString();
    }

    private static void Reports(StringBuilder b, JsonArray? reports)
    {
        b.Append("<table><tr><th>trust report</th><th>result</th><th>valid from</th><th>valid to</th><th>baselines</th><th>audit record</th></tr>\n");
        foreach (var r in reports ?? [])
        {
            var result = S(r!["result"]);
            var css = result is "trusted" or "untrusted" ? result : "unknown";
            var baselines = string.Join(", ", (r["baselines"]?.AsArray() ?? []).Select(x => $"{S(x!["name"])} v{S(x["version"])}"));
            b.Append("<tr><td><code>").Append(E(S(r["reportId"]))).Append("</code>").Append(r["reliedOn"]?.GetValue<bool>() == true ? " (relied on)" : "")
                .Append("</td><td class=\"").Append(css).Append("\">").Append(E(result)).Append("</td><td>").Append(E(S(r["validFrom"])))
                .Append("</td><td>").Append(E(S(r["validTo"]))).Append("</td><td>").Append(E(baselines.Length == 0 ? "-" : baselines))
                .Append("</td><td>#").Append(E(S(r["audit"]?["index"]))).Append("</td></tr>\n");
        }

        b.Append("</table>\n");
    }

    private static void Gaps(StringBuilder b, JsonArray? gaps)
    {
        if (gaps is null || gaps.Count == 0)
        {
            b.Append("<p class=\"trusted\">No gap: the host was trusted throughout.</p>\n");
            return;
        }

        b.Append("<table><tr><th>not trusted from</th><th>to</th><th>why</th></tr>\n");
        foreach (var g in gaps)
        {
            b.Append("<tr class=\"gap\"><td>").Append(E(S(g!["from"]))).Append("</td><td>").Append(E(S(g["to"]))).Append("</td><td>")
                .Append(E(S(g["reason"]))).Append(g["reportId"] is { } id ? $" ({E(S(id))})" : "").Append("</td></tr>\n");
        }

        b.Append("</table>\n");
    }

    private static void Cited(StringBuilder b, string what, JsonNode? cited)
    {
        if (cited is null)
        {
            return;
        }

        b.Append("<details><summary>").Append(E(what)).Append(" #").Append(E(S(cited["index"]))).Append(" and its inclusion proof</summary><pre>")
            .Append(E(S(cited["record"]))).Append("</pre><pre>leaf hash ").Append(E(S(cited["leafHash"]))).Append('\n')
            .Append(E(string.Join('\n', (cited["inclusionProof"]?.AsArray() ?? []).Select(S)))).Append("</pre></details>\n");
    }

    private static string S(JsonNode? n) => n switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => n.ToJsonString(),
    };

    private static string E(string s) => HtmlEncoder.Default.Encode(s);
}
