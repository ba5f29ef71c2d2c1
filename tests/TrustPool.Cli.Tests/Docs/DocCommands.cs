using System.Text;
using System.Text.RegularExpressions;

namespace TrustPool.Cli.Tests.Docs;

/// <summary>What a shell line of the operator docs is: a TrustPool command, or an <c>export</c> the commands after it rely on.</summary>
public enum DocStepKind
{
    Command,
    Export,
}

/// <summary>How the tests exercise a documented command.</summary>
public enum DocCoverage
{
    /// <summary>Run through <c>Program.Main</c> against a real service with agents on software TPMs.</summary>
    Run,

    /// <summary><c>trustpool server</c> / <c>trustpool agent</c> / <c>trustpool-agent</c>: started as a process until it listens, then stopped.</summary>
    Start,

    /// <summary>Only parsed; the allow-list says why.</summary>
    ParseOnly,
}

/// <summary>One logical shell line (backslash continuations joined, <c>$ </c> prompt removed) of a doc or a unit's ExecStart.</summary>
public sealed record DocStep(string File, int Line, string Text, DocStepKind Kind)
{
    /// <summary><c>trustpool</c> or <c>trustpool-agent</c> for commands.</summary>
    public string Program => Text.StartsWith("trustpool-agent ", StringComparison.Ordinal) ? "trustpool-agent" : "trustpool";

    /// <summary>The exit code the doc shows: a trailing <c># exit N</c> comment, else 0.</summary>
    public int ExpectedExit
    {
        get
        {
            DocShell.Split(Text, null, out var comment);
            var m = comment is null ? null : Regex.Match(comment, @"^#\s*exit (\d)\b");
            return m is { Success: true } ? m.Groups[1].Value[0] - '0' : 0;
        }
    }

    /// <summary>The arguments after the program name, variables left as written.</summary>
    public string[] RawArgs => [.. DocShell.Split(Text, null, out _).Skip(1)];

    /// <summary>Arguments for the <c>trustpool</c> root command: <c>trustpool-agent X</c> takes the options of <c>trustpool agent X</c>.</summary>
    public string[] RootArgs => Program == "trustpool-agent" ? ["agent", .. RawArgs] : RawArgs;

    public override string ToString() => $"{File}:{Line}: {Text}";
}

/// <summary>
/// Reads the operator docs (<c>docs/operators/*.md</c>) and the systemd units (<c>deploy/systemd/*.service</c>) for the
/// TrustPool command lines in them.
/// </summary>
public static class DocCommands
{
    /// <summary>The doc pages in walk-through order (README's table); README itself has no commands.</summary>
    public static readonly string[] Pages =
        ["INSTALL.md", "ENROLLING.md", "BASELINES-AND-POOLS.md", "OPENSTACK.md", "POSTGRESQL.md", "SIEM.md", "API.md", "TROUBLESHOOTING.md"];

    /// <summary>
    /// Lines that are only parsed, each with the reason it cannot run here. Keep this short: everything else is run or
    /// started by DocWalkthroughTests.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ParseOnly = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["trustpool server --data /var/lib/trustpool --urls https://0.0.0.0:8443 --ek-ca-dir /etc/trustpool/ek-ca --database \"postgres:Host=db1.example;Port=5432;Database=trustpool;Username=trustpool;SSL Mode=VerifyFull\""] =
            "needs a PostgreSQL server; only scripts/test.sh starts one, for the storage tests (the same service code on PostgreSQL is tested there)",
    };

    private static readonly string[] s_shellLanguages = ["sh", "bash", "shell", "console"];

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TrustPool.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException("TrustPool.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string OperatorDocs => Path.Combine(RepoRoot, "docs", "operators");

    public static string SystemdDir => Path.Combine(RepoRoot, "deploy", "systemd");

    /// <summary>Every page's steps, pages in walk-through order, lines in file order.</summary>
    public static IReadOnlyList<DocStep> AllPageSteps() => [.. Pages.SelectMany(p => Steps(Path.Combine(OperatorDocs, p)))];

    /// <summary>The ExecStart command of every unit in deploy/systemd.</summary>
    public static IReadOnlyList<DocStep> UnitSteps() =>
        [.. Directory.GetFiles(SystemdDir, "*.service").Order(StringComparer.Ordinal).Select(f => SystemdUnit.Read(f).ExecStartStep)];

    public static DocCoverage Classify(DocStep step)
    {
        if (ParseOnly.ContainsKey(step.Text))
        {
            return DocCoverage.ParseOnly;
        }

        return step.Program == "trustpool-agent" || step.RawArgs.FirstOrDefault() is "server" or "agent" ? DocCoverage.Start : DocCoverage.Run;
    }

    /// <summary>The number of fenced shell blocks in a markdown file.</summary>
    public static int ShellBlocks(string markdownFile) => Blocks(markdownFile).Count(b => b.Shell);

    /// <summary>TrustPool commands and exports in the fenced shell blocks of <paramref name="markdownFile"/>.</summary>
    public static IReadOnlyList<DocStep> Steps(string markdownFile)
    {
        var name = Path.GetFileName(markdownFile);
        var steps = new List<DocStep>();
        foreach (var block in Blocks(markdownFile).Where(b => b.Shell))
        {
            var logical = new StringBuilder();
            var start = 0;
            foreach (var (number, raw) in block.Lines)
            {
                var line = raw.Trim();
                if (logical.Length == 0)
                {
                    start = number;
                }

                if (line.EndsWith('\\'))
                {
                    logical.Append(line[..^1].TrimEnd()).Append(' ');
                    continue;
                }

                logical.Append(line);
                var text = logical.ToString().Trim();
                logical.Clear();
                if (text.StartsWith("$ ", StringComparison.Ordinal))
                {
                    text = text[2..].TrimStart();
                }

                if (text.StartsWith("trustpool ", StringComparison.Ordinal) || text.StartsWith("trustpool-agent ", StringComparison.Ordinal))
                {
                    steps.Add(new DocStep(name, start, text, DocStepKind.Command));
                }
                else if (text.StartsWith("export ", StringComparison.Ordinal))
                {
                    steps.Add(new DocStep(name, start, text, DocStepKind.Export));
                }
            }
        }

        return steps;
    }

    private sealed record Block(bool Shell, List<(int Number, string Text)> Lines);

    private static List<Block> Blocks(string markdownFile)
    {
        var blocks = new List<Block>();
        Block? current = null;
        var number = 0;
        foreach (var line in File.ReadLines(markdownFile))
        {
            number++;
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                if (current is null)
                {
                    var language = trimmed[3..].Trim().ToLowerInvariant();
                    current = new Block(s_shellLanguages.Contains(language), []);
                }
                else
                {
                    blocks.Add(current);
                    current = null;
                }

                continue;
            }

            current?.Lines.Add((number, line));
        }

        Assert.True(current is null, $"{markdownFile}: a fenced block is not closed");
        return blocks;
    }
}

/// <summary>A systemd unit file: sections and their keys (continuation lines joined).</summary>
public sealed class SystemdUnit
{
    public required string File { get; init; }

    public required Dictionary<string, List<(string Key, string Value)>> Sections { get; init; }

    public IEnumerable<string> Values(string section, string key) =>
        Sections.GetValueOrDefault(section)?.Where(kv => kv.Key == key).Select(kv => kv.Value) ?? [];

    /// <summary>ExecStart as a doc step: the executable's file name (<c>trustpool</c> / <c>trustpool-agent</c>) and its arguments.</summary>
    public DocStep ExecStartStep
    {
        get
        {
            var exec = Assert.Single(Values("Service", "ExecStart"));
            var words = DocShell.Split(exec, null, out _);
            Assert.True(words.Count > 0 && words[0].StartsWith('/'), $"{File}: ExecStart must start with an absolute path: {exec}");
            var program = Path.GetFileName(words[0]);
            Assert.True(program is "trustpool" or "trustpool-agent", $"{File}: ExecStart runs {program}, not trustpool or trustpool-agent");
            return new DocStep(Path.GetFileName(File), 0, program + " " + string.Join(' ', words.Skip(1)), DocStepKind.Command);
        }
    }

    public static SystemdUnit Read(string file)
    {
        var sections = new Dictionary<string, List<(string, string)>>(StringComparer.Ordinal);
        List<(string, string)>? current = null;
        var pending = new StringBuilder();
        var number = 0;
        foreach (var raw in System.IO.File.ReadLines(file))
        {
            number++;
            var line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#') || line.StartsWith(';')))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending.Append(line[..^1].TrimEnd()).Append(' ');
                continue;
            }

            pending.Append(line);
            var text = pending.ToString();
            pending.Clear();
            if (text.StartsWith('[') && text.EndsWith(']'))
            {
                current = [];
                Assert.True(sections.TryAdd(text[1..^1], current), $"{file}:{number}: section {text} twice");
                continue;
            }

            var eq = text.IndexOf('=', StringComparison.Ordinal);
            Assert.True(current is not null && eq > 0, $"{file}:{number}: not KEY=VALUE inside a section: {text}");
            current!.Add((text[..eq].Trim(), text[(eq + 1)..].Trim()));
        }

        Assert.True(pending.Length == 0, $"{file}: ends in a continuation line");
        return new SystemdUnit { File = file, Sections = sections };
    }
}

/// <summary>The part of POSIX shell word splitting the docs use: quotes, backslash escapes, <c>$VAR</c>, comments.</summary>
public static class DocShell
{
    /// <summary>
    /// Splits <paramref name="line"/> into words. With <paramref name="variables"/>, <c>$NAME</c> (outside single quotes)
    /// is replaced by its value and an unknown name fails the test; without, it stays as written.
    /// </summary>
    public static List<string> Split(string line, IReadOnlyDictionary<string, string>? variables, out string? comment)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        var quote = '\0';
        comment = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote == '\'')
            {
                if (c == '\'')
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }

                continue;
            }

            if (c == '$' && i + 1 < line.Length && (char.IsAsciiLetter(line[i + 1]) || line[i + 1] == '_'))
            {
                var end = i + 1;
                while (end < line.Length && (char.IsAsciiLetterOrDigit(line[end]) || line[end] == '_'))
                {
                    end++;
                }

                var name = line[(i + 1)..end];
                if (variables is null)
                {
                    word.Append('$').Append(name);
                }
                else
                {
                    Assert.True(variables.TryGetValue(name, out var value), $"the docs use ${name}, which the walk-through does not define: {line}");
                    word.Append(value);
                }

                inWord = true;
                i = end - 1;
                continue;
            }

            if (quote == '"')
            {
                if (c == '"')
                {
                    quote = '\0';
                }
                else if (c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$')
                {
                    word.Append(line[++i]);
                }
                else
                {
                    word.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case ' ' or '\t':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    break;
                case '#' when !inWord:
                    comment = line[i..];
                    i = line.Length;
                    break;
                case '\'' or '"':
                    quote = c;
                    inWord = true;
                    break;
                case '\\' when i + 1 < line.Length:
                    word.Append(line[++i]);
                    inWord = true;
                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }

        Assert.True(quote == '\0', $"unclosed quote: {line}");
        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}
