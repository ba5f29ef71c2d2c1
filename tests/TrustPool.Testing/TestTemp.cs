namespace TrustPool.Testing;

/// <summary>
/// Temporary directories for tests, all under one per-process root that is removed when the test process
/// exits, so a run leaves nothing behind in /tmp even when a test forgets to clean up.
/// </summary>
public static class TestTemp
{
    private static readonly Lazy<DirectoryInfo> s_root = new(() =>
    {
        var root = Directory.CreateTempSubdirectory($"trustpool-tests-{Environment.ProcessId}-");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                root.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return root;
    });

    public static DirectoryInfo CreateDirectory(string prefix) => s_root.Value.CreateSubdirectory(prefix + Guid.NewGuid().ToString("N")[..12]);
}
