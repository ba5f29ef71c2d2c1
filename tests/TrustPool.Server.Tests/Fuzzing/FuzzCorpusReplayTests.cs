using System.Diagnostics;
using TrustPool.Fuzz;

namespace TrustPool.Server.Tests.Fuzzing;

/// <summary>
/// Replays the minimized afl++ corpora in fuzz/corpus/TARGET (docs/FUZZING.md) through the same fuzz targets, without
/// instrumentation: every input must end in the parser's documented exception or a result, within a time bound.
/// </summary>
public sealed class FuzzCorpusReplayTests
{
    private static readonly TimeSpan s_perInput = TimeSpan.FromSeconds(5);

    public static TheoryData<string> Targets() => new(FuzzTargets.Names.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Corpus_EveryInput_EndsInExpectedOutcomeWithinBound(string target)
    {
        Assert.True(FuzzTargets.TryGet(target, out var run));
        var dir = Path.Combine(RepoRoot(), "fuzz", "corpus", target);
        var files = Directory.Exists(dir) ? Directory.GetFiles(dir).Order(StringComparer.Ordinal).ToArray() : [];
        Assert.True(files.Length > 0, $"fuzz/corpus/{target} has no inputs");

        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var watch = Stopwatch.StartNew();
            // An unexpected exception escapes and fails the test; a hang ends in TimeoutException.
            await Task.Run(() => run(bytes)).WaitAsync(s_perInput);
            Assert.True(watch.Elapsed < s_perInput, $"{Path.GetFileName(file)} took {watch.Elapsed}");
        }
    }

    [Fact]
    public void Targets_NameEveryParserOfUntrustedBytes()
    {
        Assert.Equal(13, FuzzTargets.Names.Count);
        Assert.False(FuzzTargets.TryGet("no-such-target", out _));
    }

    private static string RepoRoot()
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
