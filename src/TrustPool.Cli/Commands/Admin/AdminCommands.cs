using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace TrustPool.Cli.Commands.Admin;

/// <summary>
/// The admin verbs over the service API: <c>host</c>, <c>baseline</c>, <c>pool</c>, <c>report</c>, <c>token</c>.
/// Tables by default, <c>--json</c> prints the service's document. Exit codes: 0 done, 1 refused by the service
/// (or, for <c>host attest</c>, the host is not trusted), 2 usage.
/// </summary>
internal static class AdminCommands
{
    public static IEnumerable<Command> Create() => [Host(), Baseline(), Pool(), Report(), Token(), Place(), Placements(), Evacuations()];

    private static Command Place()
    {
        var name = new Argument<string>("name") { Description = "Workload name" };
        var vcpus = new Option<int>("--vcpus") { Description = "vCPUs", DefaultValueFactory = _ => 1 };
        var memory = new Option<long>("--memory-mb") { Description = "Memory in MB", DefaultValueFactory = _ => 512 };
        var disk = new Option<long>("--disk-gb") { Description = "Disk in GB", DefaultValueFactory = _ => 1 };
        var trust = new Option<string>("--trust") { Description = "required (default), preferred or any" };
        var pools = new Option<string[]>("--pool") { Description = "Pool the host must be trusted in (repeatable)" };
        var tags = new Option<string[]>("--tag") { Description = "Required tag KEY=VALUE or forbidden !KEY=VALUE (repeatable)" };
        var affinity = new Option<string>("--affinity") { Description = "Affinity group" };
        var anti = new Option<string>("--anti-affinity") { Description = "Anti-affinity group" };
        var cmd = new Command("place", "Place a workload on a trusted host (exit 1 with the explanation when none fits)") { name, vcpus, memory, disk, trust, pools, tags, affinity, anti };
        cmd.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var body = new JsonObject
            {
                ["name"] = p.GetValue(name),
                ["resources"] = new JsonObject { ["vcpus"] = p.GetValue(vcpus), ["memoryMb"] = p.GetValue(memory), ["diskGb"] = p.GetValue(disk) },
                ["trust"] = p.GetValue(trust) ?? "required",
                ["pools"] = new JsonArray([.. (p.GetValue(pools) ?? []).Select(x => (JsonNode)x)]),
                ["tags"] = new JsonArray([.. (p.GetValue(tags) ?? []).Select(x => (JsonNode)x)]),
                ["affinityGroup"] = p.GetValue(affinity),
                ["antiAffinityGroup"] = p.GetValue(anti),
            };
            var r = await c.PostAsync("v1/placements", body);
            Print(json, r, () =>
            {
                AnsiConsole.MarkupLine($"placed [bold]{Markup.Escape(S(r["workload"]))}[/] on [green]{Markup.Escape(S(r["host"]))}[/] (report {Markup.Escape(S(r["reportId"]))}, placement {Markup.Escape(S(r["id"]))})");
                PrintDecision(r["decision"]);
            });
            return Program.ExitOk;
        }));
        return ServiceClient.WithConnection(cmd);
    }

    private static Command Placements()
    {
        var host = new Option<string>("--host") { Description = "Only placements on this host" };
        var all = new Option<bool>("--all") { Description = "Include released placements" };
        var release = new Option<string>("--release") { Description = "Release the placement with this id" };
        var cmd = new Command("placements", "List placements (or release one)") { host, all, release };
        cmd.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            if (p.GetValue(release) is { } id)
            {
                await c.DeleteAsync($"v1/placements/{Uri.EscapeDataString(id)}");
                Print(json, new JsonObject { ["released"] = id }, () => AnsiConsole.MarkupLine($"released {Markup.Escape(id)}"));
                return Program.ExitOk;
            }

            var query = new List<string>();
            if (p.GetValue(host) is { } h)
            {
                query.Add("host=" + Uri.EscapeDataString(h));
            }

            if (p.GetValue(all))
            {
                query.Add("all=true");
            }

            var doc = await c.GetAsync("v1/placements" + (query.Count > 0 ? "?" + string.Join("&", query) : ""));
            Print(json, doc, () =>
            {
                var t = new Table().AddColumns("id", "workload", "host", "report relied on", "placed", "released");
                foreach (var pl in doc["placements"]!.AsArray())
                {
                    t.AddRow(Markup.Escape(S(pl!["id"])), Markup.Escape(S(pl["workload"])), Markup.Escape(S(pl["host"])), Markup.Escape(S(pl["reportId"])),
                        Markup.Escape(S(pl["createdAt"])), Markup.Escape(S(pl["releasedAt"])));
                }

                AnsiConsole.Write(t);
            });
            return Program.ExitOk;
        }));
        return ServiceClient.WithConnection(cmd);
    }

    private static Command Evacuations()
    {
        var record = new Option<bool>("--record")
        {
            Description = "Plan as an operator: POST the plan so the service records it in the audit log (evacuation.planned); without it the plan is only read",
        };
        var cmd = new Command("evacuations", "Workloads that required trust on hosts that lost it, with a proposed new host") { record };
        cmd.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            // Reading the plan (reader) writes nothing; recording it is an explicit write (operator).
            var doc = p.GetValue(record) ? await c.PostAsync("v1/evacuations", null) : await c.GetAsync("v1/evacuations");
            Print(json, doc, () =>
            {
                var t = new Table().AddColumns("workload", "from", "why", "to");
                foreach (var i in doc["items"]!.AsArray())
                {
                    t.AddRow(Markup.Escape(S(i!["workload"])), Markup.Escape(S(i["sourceHost"])), Markup.Escape(S(i["why"])),
                        i["proposedHost"] is null ? "[red]" + Markup.Escape(S(i["problem"])) + "[/]" : "[green]" + Markup.Escape(S(i["proposedHost"])) + "[/]");
                }

                AnsiConsole.Write(t);
            });
            return Program.ExitOk;
        }));
        return ServiceClient.WithConnection(cmd);
    }

    private static void PrintDecision(JsonNode? decision)
    {
        if (decision?["winner"] is JsonObject w)
        {
            AnsiConsole.MarkupLine($"  weights: {Markup.Escape(w["weights"]?.ToJsonString() ?? "")} total {Markup.Escape(S(w["total"]))}");
        }

        foreach (var r in decision?["rejections"]?.AsArray() ?? [])
        {
            AnsiConsole.MarkupLine($"  [grey]{Markup.Escape(S(r!["host"]))}: {Markup.Escape(S(r["filter"]))}: {Markup.Escape(S(r["reason"]))}[/]");
        }
    }

    private static Command Host()
    {
        var name = new Argument<string>("name") { Description = "Host name (as the scheduler and Nova know it)" };
        var agentUrl = new Option<string>("--agent-url") { Description = "The agent's https URL, e.g. https://10.0.0.5:9443/", Required = true };
        var fingerprint = new Option<string>("--fingerprint") { Description = "SHA-256 of the agent's TLS certificate (printed at agent start) to pin" };
        var tags = new Option<string[]>("--tag") { Description = "Asset tag KEY=VALUE (repeatable), e.g. country=DE" };
        var add = new Command("add", "Enroll a host: identity, AK checks, EK certificate, credential activation") { name, agentUrl, fingerprint, tags };
        add.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var body = new JsonObject { ["name"] = p.GetValue(name), ["agentUrl"] = p.GetValue(agentUrl), ["agentCertFingerprint"] = p.GetValue(fingerprint), ["tags"] = Tags(p.GetValue(tags)) };
            var host = await c.PostAsync("v1/hosts", body);
            Print(json, host, () => AnsiConsole.MarkupLine($"enrolled [bold]{Markup.Escape(S(host["name"]))}[/]: AK {Markup.Escape(S(host["akName"]))}, EK trust {Markup.Escape(S(host["ekTrust"]))}"));
            return Program.ExitOk;
        }));

        var list = new Command("list", "Hosts with their current trust");
        list.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var doc = await c.GetAsync("v1/hosts");
            Print(json, doc, () =>
            {
                var t = new Table().AddColumns("host", "trust", "state", "EK trust", "tags", "valid to");
                foreach (var h in doc["hosts"]!.AsArray())
                {
                    t.AddRow(Markup.Escape(S(h!["name"])), TrustMarkup(S(h["trust"])), Markup.Escape(S(h["state"])), Markup.Escape(S(h["ekTrust"])),
                        Markup.Escape(TagsText(h["tags"])), Markup.Escape(S(h["validTo"])));
                }

                AnsiConsole.Write(t);
            });
            return Program.ExitOk;
        }));

        var showName = new Argument<string>("name");
        var show = new Command("show", "One host and its latest report") { showName };
        show.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var h = await c.GetAsync($"v1/hosts/{Uri.EscapeDataString(p.GetValue(showName)!)}");
            Print(json, h, () =>
            {
                var grid = new Grid().AddColumns(2);
                foreach (var key in new[] { "name", "agentUrl", "tlsFingerprint", "akName", "ekTrust", "state", "trust", "reportId", "verifiedAt", "validTo" })
                {
                    grid.AddRow(key, key == "trust" ? TrustMarkup(S(h[key])) : Markup.Escape(S(h[key])));
                }

                grid.AddRow("tags", Markup.Escape(TagsText(h["tags"])));
                AnsiConsole.Write(grid);
                if (h["report"] is JsonObject r)
                {
                    PrintReport(r);
                }
            });
            return Program.ExitOk;
        }));

        var attestName = new Argument<string>("name");
        var attest = new Command("attest", "Attest a host now (exit 0 when trusted, 1 otherwise)") { attestName };
        attest.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var r = await c.PostAsync($"v1/hosts/{Uri.EscapeDataString(p.GetValue(attestName)!)}/attest", null);
            Print(json, r, () => PrintReport(r.AsObject()));
            return S(r["trust"]) == "trusted" ? Program.ExitOk : Program.ExitRejected;
        }));

        var removeName = new Argument<string>("name");
        var remove = new Command("remove", "Remove a host (its reports stay as history)") { removeName };
        remove.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            await c.DeleteAsync($"v1/hosts/{Uri.EscapeDataString(p.GetValue(removeName)!)}");
            Print(json, new JsonObject { ["removed"] = p.GetValue(removeName) }, () => AnsiConsole.MarkupLine($"removed {Markup.Escape(p.GetValue(removeName)!)}"));
            return Program.ExitOk;
        }));

        return ServiceClient.WithConnection(new Command("host", "Enroll, list, show, attest and remove hosts") { add, list, show, attest, remove });
    }

    private static Command Baseline()
    {
        var fromHost = new Option<string>("--from-host") { Description = "Known-good reference host (enrolled)", Required = true };
        var kinds = new Option<string[]>("--kind") { Description = "platform, os, host-unique, software or asset-tag (repeatable)", Required = true };
        var name = new Option<string>("--name") { Description = "Baseline name (name-KIND when several kinds)", Required = true };
        var template = new Option<string>("--template") { Description = "uefi (PCR 0-9, default) or txt (PCR 17-19)" };
        var import = new Command("import", "Take fresh verified evidence from a reference host and derive baselines") { fromHost, kinds, name, template };
        import.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var body = new JsonObject
            {
                ["fromHost"] = p.GetValue(fromHost),
                ["name"] = p.GetValue(name),
                ["kinds"] = new JsonArray([.. p.GetValue(kinds)!.SelectMany(k => k.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(k => (JsonNode)k)]),
                ["template"] = p.GetValue(template),
            };
            var doc = await c.PostAsync("v1/baselines/import", body);
            Print(json, doc, () => PrintBaselines(doc["baselines"]!.AsArray()));
            return Program.ExitOk;
        }));

        var list = new Command("list", "Baselines (latest version of each)");
        list.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var doc = await c.GetAsync("v1/baselines");
            Print(json, doc, () => PrintBaselines(doc["baselines"]!.AsArray()));
            return Program.ExitOk;
        }));

        var showName = new Argument<string>("name");
        var version = new Option<int?>("--version") { Description = "A specific version (default: latest)" };
        var show = new Command("show", "A baseline's expected values") { showName, version };
        show.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var doc = await c.GetAsync(BaselinePath(p.GetValue(showName)!, p.GetValue(version)));
            Print(json, doc, () =>
            {
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(S(doc["name"]))}[/] {Markup.Escape(S(doc["kind"]))} version {Markup.Escape(S(doc["version"]))} from {Markup.Escape(S(doc["fromHost"]))}");
                var t = new Table().AddColumns("bank", "PCR", "expected");
                foreach (var pcr in doc["pcrs"]?.AsArray() ?? [])
                {
                    t.AddRow(Markup.Escape(S(pcr!["bank"])), Markup.Escape(S(pcr["index"])), Markup.Escape(S(pcr["value"])));
                }

                AnsiConsole.Write(t);
            });
            return Program.ExitOk;
        }));

        var exportName = new Argument<string>("name");
        var exportVersion = new Option<int?>("--version") { Description = "A specific version (default: latest)" };
        var output = new Option<string>("--out") { Description = "File to write (default: stdout)" };
        var export = new Command("export", "Write a baseline's JSON document (re-importable with POST /v1/baselines)") { exportName, exportVersion, output };
        export.SetAction(p => ServiceClient.Run(p, async (c, _) =>
        {
            var doc = (await c.GetAsync(BaselinePath(p.GetValue(exportName)!, p.GetValue(exportVersion)))).AsObject();
            doc.Remove("version");
            var text = doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
            if (p.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file, text + "\n");
            }
            else
            {
                Console.WriteLine(text);
            }

            return Program.ExitOk;
        }));

        var file = new Argument<string>("file") { Description = "Baseline JSON document (as exported)" };
        var create = new Command("create", "Create a baseline, or a new version of one, from a JSON document") { file };
        create.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var doc = JsonNode.Parse(await File.ReadAllTextAsync(p.GetValue(file)!)) ?? throw new CliUsageException("the file is empty");
            var r = await c.PostAsync("v1/baselines", doc);
            Print(json, r, () => PrintBaselines([r.DeepClone()]));
            return Program.ExitOk;
        }));

        return ServiceClient.WithConnection(new Command("baseline", "Golden values from known-good hosts, versioned") { import, list, show, export, create });
    }

    private static string BaselinePath(string name, int? version) =>
        $"v1/baselines/{Uri.EscapeDataString(name)}" + (version is { } v ? $"?version={v}" : "");

    private static Command Pool()
    {
        var name = new Argument<string>("name");
        var platform = new Option<string[]>("--platform") { Description = "Platform baselines, any of (repeatable or comma-separated)" };
        var os = new Option<string[]>("--os") { Description = "OS baselines, any of" };
        var software = new Option<string[]>("--software") { Description = "Software (IMA) baselines, all of" };
        var hostUnique = new Option<string[]>("--host-unique") { Description = "Host-unique baselines, any of" };
        var tags = new Option<string[]>("--tag") { Description = "Required asset tag KEY=VALUE (repeatable)" };
        var create = new Command("create", "Create or change a trusted compute pool") { name, platform, os, software, hostUnique, tags };
        create.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            JsonArray List(Option<string[]> o) => new([.. (p.GetValue(o) ?? []).SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(x => (JsonNode)x)]);
            var poolName = p.GetValue(name)!;
            var body = new JsonObject
            {
                ["name"] = poolName,
                ["require"] = new JsonObject
                {
                    ["platform"] = List(platform), ["os"] = List(os), ["software"] = List(software), ["hostUnique"] = List(hostUnique), ["tags"] = Tags(p.GetValue(tags)),
                },
            };
            JsonNode r;
            try
            {
                r = await c.PostAsync("v1/pools", body);
            }
            catch (ServiceRefusedException e) when (e.Status == 409)
            {
                r = await c.PutAsync($"v1/pools/{Uri.EscapeDataString(poolName)}", body);
            }

            Print(json, r, () => AnsiConsole.MarkupLine($"pool [bold]{Markup.Escape(poolName)}[/] version {Markup.Escape(S(r["version"]))}"));
            return Program.ExitOk;
        }));

        var list = new Command("list", "Pools and the hosts currently trusted in each");
        list.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var doc = await c.GetAsync("v1/pools");
            Print(json, doc, () =>
            {
                var t = new Table().AddColumns("pool", "version", "requires", "trusted hosts");
                foreach (var pool in doc["pools"]!.AsArray())
                {
                    t.AddRow(Markup.Escape(S(pool!["name"])), Markup.Escape(S(pool["version"])), Markup.Escape(pool["require"]?.ToJsonString() ?? ""),
                        Markup.Escape(string.Join(", ", pool["trustedHosts"]?.AsArray().Select(S) ?? [])));
                }

                AnsiConsole.Write(t);
            });
            return Program.ExitOk;
        }));

        var showName = new Argument<string>("name");
        var show = new Command("show", "A pool's requirements and trusted hosts") { showName };
        show.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var doc = await c.GetAsync($"v1/pools/{Uri.EscapeDataString(p.GetValue(showName)!)}");
            Print(json, doc, () => AnsiConsole.WriteLine(doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })));
            return Program.ExitOk;
        }));

        return ServiceClient.WithConnection(new Command("pool", "Trusted compute pools") { create, list, show });
    }

    private static Command Report()
    {
        var host = new Argument<string>("host");
        var show = new Command("show", "The latest trust report of a host, with every rule and fault") { host };
        show.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var r = await c.GetAsync($"v1/hosts/{Uri.EscapeDataString(p.GetValue(host)!)}/report");
            Print(json, r, () => PrintReport(r.AsObject()));
            return Program.ExitOk;
        }));
        return ServiceClient.WithConnection(new Command("report", "Signed trust reports") { show });
    }

    private static Command Token()
    {
        var role = new Option<string>("--role") { Description = "admin, operator or reader", Required = true };
        var name = new Option<string>("--name") { Description = "What the token is for" };
        var create = new Command("create", "Create an API token (printed once)") { role, name };
        create.SetAction(p => ServiceClient.Run(p, async (c, json) =>
        {
            var r = await c.PostAsync("v1/tokens", new JsonObject { ["role"] = p.GetValue(role), ["name"] = p.GetValue(name) });
            Print(json, r, () => Console.WriteLine(S(r["token"])));
            return Program.ExitOk;
        }));
        return ServiceClient.WithConnection(new Command("token", "API tokens (admin)") { create });
    }

    private static void PrintReport(JsonObject r)
    {
        AnsiConsole.MarkupLine($"report {Markup.Escape(S(r["id"]))} for [bold]{Markup.Escape(S(r["host"]))}[/]: {TrustMarkup(S(r["trust"]))}" +
            $" (EK trust {Markup.Escape(S(r["ekTrust"]))}, valid {Markup.Escape(S(r["validFrom"]))} .. {Markup.Escape(S(r["validTo"]))})");
        foreach (var f in r["faults"]?.AsArray() ?? [])
        {
            AnsiConsole.MarkupLine($"  [red]{Markup.Escape(S(f!["code"]))}[/] {Markup.Escape(S(f["message"]))}");
        }

        var t = new Table().AddColumns("pool", "trust", "rule", "baseline", "result");
        foreach (var pool in r["pools"]?.AsArray() ?? [])
        {
            foreach (var rule in pool!["rules"]?.AsArray() ?? [])
            {
                var faults = rule!["faults"]?.AsArray().Select(f => S(f!["message"])).ToList() ?? [];
                var baseline = rule["baseline"] is null ? "" : $"{S(rule["baseline"])} v{S(rule["baselineVersion"])}";
                t.AddRow(Markup.Escape(S(pool["pool"])), TrustMarkup(S(pool["trust"])), Markup.Escape(S(rule["rule"])), Markup.Escape(baseline),
                    rule["passed"]?.GetValue<bool>() == true ? "[green]pass[/]" : "[red]" + Markup.Escape(string.Join("; ", faults)) + "[/]");
            }
        }

        AnsiConsole.Write(t);
    }

    private static void PrintBaselines(JsonArray baselines)
    {
        var t = new Table().AddColumns("baseline", "kind", "version", "PCRs", "from host", "digest");
        foreach (var b in baselines)
        {
            t.AddRow(Markup.Escape(S(b!["name"])), Markup.Escape(S(b["kind"])), Markup.Escape(S(b["version"])), Markup.Escape(S(b["pcrs"])),
                Markup.Escape(S(b["fromHost"])), Markup.Escape(S(b["digest"]) is { Length: > 16 } d ? d[..16] + ".." : S(b["digest"])));
        }

        AnsiConsole.Write(t);
    }

    private static JsonObject Tags(string[]? tags)
    {
        var o = new JsonObject();
        foreach (var t in tags ?? [])
        {
            var i = t.IndexOf('=', StringComparison.Ordinal);
            if (i <= 0)
            {
                throw new CliUsageException($"--tag '{t}' is not KEY=VALUE");
            }

            o[t[..i]] = t[(i + 1)..];
        }

        return o;
    }

    private static string TagsText(JsonNode? tags) =>
        tags is JsonObject o ? string.Join(", ", o.Select(kv => $"{kv.Key}={S(kv.Value)}")) : "";

    private static string TrustMarkup(string trust) => trust switch
    {
        "trusted" => "[green]trusted[/]",
        "untrusted" => "[red]untrusted[/]",
        _ => "[yellow]" + Markup.Escape(trust.Length == 0 ? "unknown" : trust) + "[/]",
    };

    private static string S(JsonNode? n) => n switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => n.ToJsonString(),
    };

    private static void Print(bool json, JsonNode doc, Action table)
    {
        if (json)
        {
            ServiceClient.PrintJson(doc);
        }
        else
        {
            table();
        }
    }
}
