using System.CommandLine;

namespace TrustPool.Cli.Tests.Docs;

/// <summary>
/// Every <c>trustpool</c> / <c>trustpool-agent</c> line of the operator docs and the systemd units parses against the
/// real command, and is either run (<see cref="DocWalkthroughTests"/>) or in the short, reasoned parse-only list.
/// </summary>
public sealed class DocCommandsTests
{
    /// <summary>Fewer than this means the extractor lost lines (the docs hold about 60).</summary>
    private const int MinimumCommands = 45;

    [Fact]
    public void Extractor_SampleMarkdown_JoinsContinuationsStripsPromptReadsExitComment()
    {
        var file = Path.Combine(TrustPool.Testing.TestTemp.CreateDirectory("trustpool-doc-extract-").FullName, "SAMPLE.md");
        File.WriteAllText(file, """
            text `trustpool inline` is not a command
            ```sh
            # a comment
            $ trustpool host add web1 --agent-url $AGENT_URL \
                --fingerprint $FINGERPRINT  # exit 1
            curl https://example
            export TRUSTPOOL_SERVER=$SERVER
            ```
            ```
            trustpool server --not-shell-so-ignored
            ```
            ```ini
            trustpool ignored too
            ```
              ```bash
              trustpool host list
              ```
            """);

        var steps = DocCommands.Steps(file);

        Assert.Equal(3, steps.Count);
        Assert.Equal("trustpool host add web1 --agent-url $AGENT_URL --fingerprint $FINGERPRINT  # exit 1", steps[0].Text);
        Assert.Equal(4, steps[0].Line);
        Assert.Equal(1, steps[0].ExpectedExit);
        Assert.Equal(["host", "add", "web1", "--agent-url", "$AGENT_URL", "--fingerprint", "$FINGERPRINT"], steps[0].RawArgs);
        Assert.Equal(DocStepKind.Export, steps[1].Kind);
        Assert.Equal("trustpool host list", steps[2].Text);
        Assert.Equal(0, steps[2].ExpectedExit);
        Assert.Equal(2, DocCommands.ShellBlocks(file));
    }

    [Fact]
    public void Shell_QuotesVariablesAndComments_SplitAsShellDoes()
    {
        var vars = new Dictionary<string, string> { ["PW"] = "s e;cret" };
        var words = DocShell.Split("""trustpool x --database "postgres:Host=h;Password=$PW" 'lit $PW' a\ b # exit 2""", vars, out var comment);
        Assert.Equal(["trustpool", "x", "--database", "postgres:Host=h;Password=s e;cret", "lit $PW", "a b"], words);
        Assert.Equal("# exit 2", comment);
        Assert.Equal(["a#b"], DocShell.Split("a#b", null, out var none));
        Assert.Null(none);
    }

    [Fact]
    public void Docs_EveryPageListedAndEveryPageWithShellBlocksHasCommands_EnoughCommandsFound()
    {
        var onDisk = Directory.GetFiles(DocCommands.OperatorDocs, "*.md").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([.. DocCommands.Pages.Append("README.md").Order(StringComparer.Ordinal)], onDisk);
        var readme = File.ReadAllText(Path.Combine(DocCommands.OperatorDocs, "README.md"));
        foreach (var page in DocCommands.Pages)
        {
            Assert.Contains($"]({page})", readme, StringComparison.Ordinal);
            var path = Path.Combine(DocCommands.OperatorDocs, page);
            if (DocCommands.ShellBlocks(path) > 0)
            {
                Assert.True(DocCommands.Steps(path).Any(s => s.Kind == DocStepKind.Command), $"{page} has shell blocks but no trustpool command was extracted");
            }
        }

        var commands = DocCommands.AllPageSteps().Where(s => s.Kind == DocStepKind.Command).ToList();
        Assert.True(commands.Count >= MinimumCommands, $"only {commands.Count} commands extracted");
        Assert.Equal(2, DocCommands.UnitSteps().Count);
    }

    [Fact]
    public void DocCommands_EveryLine_ParsesAgainstTheRealRootCommandWithoutErrors()
    {
        var root = Program.BuildRoot();
        var failures = new List<string>();
        var steps = DocCommands.AllPageSteps().Where(s => s.Kind == DocStepKind.Command).Concat(DocCommands.UnitSteps()).ToList();
        foreach (var step in steps)
        {
            var parse = root.Parse(step.RootArgs);
            if (parse.Errors.Count > 0)
            {
                failures.Add($"{step}\n    {string.Join("\n    ", parse.Errors.Select(e => e.Message))}");
            }
            else if (parse.CommandResult.Command.Action is null)
            {
                failures.Add($"{step}\n    names a command group, not a command");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(steps.Count > MinimumCommands);
    }

    [Fact]
    public void DocCommands_EveryLine_IsRunStartedOrParseOnlyWithAReason()
    {
        var steps = DocCommands.AllPageSteps().Where(s => s.Kind == DocStepKind.Command).Concat(DocCommands.UnitSteps()).ToList();
        var byCoverage = steps.GroupBy(DocCommands.Classify).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(byCoverage.GetValueOrDefault(DocCoverage.Run) >= 35, $"run: {byCoverage.GetValueOrDefault(DocCoverage.Run)}");
        Assert.True(byCoverage.GetValueOrDefault(DocCoverage.Start) >= 8, $"start: {byCoverage.GetValueOrDefault(DocCoverage.Start)}");

        // The parse-only list stays small, every entry is still in the docs and says why.
        Assert.InRange(DocCommands.ParseOnly.Count, 0, 3);
        foreach (var (line, reason) in DocCommands.ParseOnly)
        {
            Assert.Contains(steps, s => s.Text == line);
            Assert.False(string.IsNullOrWhiteSpace(reason));
        }

        // Start lines are only the long-running verbs; anything else that cannot run must be argued in ParseOnly.
        Assert.All(steps.Where(s => DocCommands.Classify(s) == DocCoverage.Start), s => Assert.True(s.RootArgs[0] is "server" or "agent", s.ToString()));
    }

    [Fact]
    public void SystemdUnits_SectionsExecStartAndHardening_WellFormed()
    {
        var files = Directory.GetFiles(DocCommands.SystemdDir, "*.service").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["trustpool-agent.service", "trustpool-server.service"], files.Select(Path.GetFileName));
        var root = Program.BuildRoot();
        foreach (var file in files)
        {
            var unit = SystemdUnit.Read(file);
            Assert.Equal(["Install", "Service", "Unit"], unit.Sections.Keys.Order(StringComparer.Ordinal));
            Assert.Single(unit.Values("Unit", "Description"));
            Assert.Equal(["multi-user.target"], unit.Values("Install", "WantedBy"));
            Assert.Equal(["simple"], unit.Values("Service", "Type"));
            var step = unit.ExecStartStep;
            var parse = root.Parse(step.RootArgs);
            Assert.True(parse.Errors.Count == 0, $"{file}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            Assert.Equal(["strict"], unit.Values("Service", "ProtectSystem"));
            Assert.Equal(["yes"], unit.Values("Service", "NoNewPrivileges"));
            Assert.True(unit.Values("Service", "DynamicUser").SequenceEqual(["yes"]) || unit.Values("Service", "User").Any(), $"{file}: no DynamicUser and no User");
            var state = Assert.Single(unit.Values("Service", "StateDirectory"));
            Assert.Contains($"--data /var/lib/{state}", step.Text, StringComparison.Ordinal);
            Assert.Equal(["0700"], unit.Values("Service", "StateDirectoryMode"));
        }

        var agent = SystemdUnit.Read(Path.Combine(DocCommands.SystemdDir, "trustpool-agent.service"));
        Assert.Contains("device:/dev/tpmrm0", agent.ExecStartStep.Text, StringComparison.Ordinal);
        Assert.Contains("tss", agent.Values("Service", "SupplementaryGroups").SelectMany(v => v.Split(' ')));
        Assert.Contains("/dev/tpmrm0 rw", agent.Values("Service", "DeviceAllow"));
        var server = SystemdUnit.Read(Path.Combine(DocCommands.SystemdDir, "trustpool-server.service"));
        Assert.Empty(server.Values("Service", "MemoryDenyWriteExecute"));
    }

    [SkippableFact]
    public void SystemdUnits_SystemdAnalyzeVerify_OnlyComplainsThatTheBinariesAreNotInstalledHere()
    {
        var analyze = TrustPool.Testing.Integration.FindOnPath("systemd-analyze");
        Skip.If(analyze is null, "systemd-analyze is not installed");
        foreach (var file in Directory.GetFiles(DocCommands.SystemdDir, "*.service"))
        {
            var r = TrustPool.Testing.ProcessRunner.Run(analyze!, ["verify", "--man=no", file], timeout: TimeSpan.FromSeconds(60));
            var complaints = (r.StdOut + "\n" + r.StdErr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(l => !l.Contains("is not executable: No such file or directory", StringComparison.Ordinal))
                .Where(l => !l.Contains("Unit sysinit.target not found", StringComparison.Ordinal))
                .ToList();
            Assert.True(complaints.Count == 0, $"{file}:\n{string.Join("\n", complaints)}");
        }
    }
}
