using Xunit;

namespace TrustPool.Testing;

/// <summary>
/// Gate for tests that need a real component (swtpm, tpm2-tools, PostgreSQL, ...).
/// With TRUSTPOOL_REQUIRE_INTEGRATION=1 (set by scripts/test.sh) a missing component fails the test;
/// otherwise the test is skipped with the reason.
/// </summary>
public static class Integration
{
    public static bool Required =>
        Environment.GetEnvironmentVariable("TRUSTPOOL_REQUIRE_INTEGRATION") == "1";

    public static void SkipOrFailUnless(bool condition, string reason)
    {
        if (condition)
        {
            return;
        }

        if (Required)
        {
            throw new InvalidOperationException($"Required integration component missing: {reason} (TRUSTPOOL_REQUIRE_INTEGRATION=1)");
        }

        throw new SkipException(reason);
    }

    /// <summary>Finds an executable on PATH; skips or fails when it is absent.</summary>
    public static string RequireTool(string name)
    {
        var path = FindOnPath(name);
        SkipOrFailUnless(path is not null, $"'{name}' is not installed (scripts/test.sh installs it)");
        return path!;
    }

    public static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var dir in new[] { "/usr/bin", "/usr/sbin", "/bin", "/sbin" })
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
