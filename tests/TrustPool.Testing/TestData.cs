namespace TrustPool.Testing;

/// <summary>
/// Locates ../shared/testdata (real evidence from public projects), read in place and never copied.
/// Tests that need it call <see cref="Require"/>: it skips with the reason when the folder is absent,
/// and fails instead when TRUSTPOOL_REQUIRE_INTEGRATION=1.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string?> s_root = new(FindRoot);

    public static string? Root => s_root.Value;

    public static string Require(params string[] relative)
    {
        var root = Root;
        Integration.SkipOrFailUnless(root is not null, "../shared/testdata was not found beside the project root");
        var path = Path.Combine([root!, .. relative]);
        Integration.SkipOrFailUnless(File.Exists(path) || Directory.Exists(path), $"test data {path} is missing");
        return path;
    }

    public static byte[] ReadBytes(params string[] relative) => File.ReadAllBytes(Require(relative));

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("TRUSTPOOL_TESTDATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return env;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TrustPool.sln")))
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared", "testdata");
                return Directory.Exists(candidate) ? Path.GetFullPath(candidate) : null;
            }
        }

        return null;
    }
}
