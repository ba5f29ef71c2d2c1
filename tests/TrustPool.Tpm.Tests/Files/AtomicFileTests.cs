using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using TrustPool.Testing;
using TrustPool.Tpm.Files;

namespace TrustPool.Tpm.Tests.Files;

// Linux is where TrustPool runs; the Unix-mode tests skip themselves elsewhere.
[UnsupportedOSPlatform("windows")]
public sealed class AtomicFileTests : IDisposable
{
    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string _dir = TestTemp.CreateDirectory("trustpool-atomicfile-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string In(string file) => Path.Combine(_dir, file);

    private string[] Names() => [.. Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void Write_Text_RoundTripsAsUtf8WithoutBom()
    {
        var path = In("token");
        AtomicFile.Write(path, "s3cr\u00e9t\n");

        Assert.Equal(Encoding.UTF8.GetBytes("s3cr\u00e9t\n"), File.ReadAllBytes(path));
        Assert.Equal(["token"], Names());
    }

    [Fact]
    public void Write_ExistingTarget_IsReplacedWithNewContentAndMode()
    {
        var path = In("state.json");
        File.WriteAllText(path, "old old old old");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, Mode0644);
        }

        AtomicFile.Write(path, "new"u8.ToArray(), flushToDisk: false);

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["state.json"], Names());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(path));
        }
    }

    [SkippableFact]
    public void Write_PermissiveUmask_TempIs0600BeforeTheFirstByte()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix modes");
        var path = In("key.pem");
        UnixFileMode? atCreation = null;
        var previous = Libc.umask(0);
        try
        {
            AtomicFile.Write(path, stream =>
            {
                atCreation = File.GetUnixFileMode(stream.SafeFileHandle);
                stream.Write("-----BEGIN PRIVATE KEY-----\n"u8);
            });
        }
        finally
        {
            Libc.umask(previous);
        }

        Assert.Equal(AtomicFile.OwnerOnly, atCreation);
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(path));
    }

    [SkippableFact]
    public void Write_GivenMode_IsKept()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix modes");
        var path = In("cert.pem");
        AtomicFile.Write(path, "-----BEGIN CERTIFICATE-----\n", AtomicFile.WorldReadable);

        Assert.Equal(AtomicFile.WorldReadable, File.GetUnixFileMode(path));
    }

    [SkippableFact]
    public void Write_StaleFixedTmpWith0644_IsNeitherReusedNorTouched()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix modes");
        var path = In("admin-token");
        var stale = path + ".tmp";
        File.WriteAllText(stale, "stale");
        File.SetUnixFileMode(stale, Mode0644);

        AtomicFile.Write(path, "fresh");

        Assert.Equal("fresh", File.ReadAllText(path));
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal("stale", File.ReadAllText(stale));
        Assert.Equal(["admin-token", "admin-token.tmp"], Names());
    }

    [Fact]
    public void Write_WriterThrows_NoTempLeftAndTargetUnchanged()
    {
        var path = In("state.json");
        File.WriteAllText(path, "old");

        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half"u8);
            throw new InvalidOperationException("disk on fire");
        }));

        Assert.Equal("disk on fire", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["state.json"], Names());
    }

    [Fact]
    public void Write_RenameFails_NoTempLeft()
    {
        // A directory at the target's name: the temp file is written, the rename over it fails.
        var path = In("cert.pem");
        Directory.CreateDirectory(path);

        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(path, "pem"));

        Assert.Empty(Names());
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public void Write_DirectoryMissing_ThrowsAndCreatesNothing()
    {
        var path = In(Path.Combine("missing", "key.pem"));

        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(path, "pem"));

        Assert.False(Directory.Exists(In("missing")));
        Assert.Empty(Names());
    }

    [Fact]
    public void Write_FolderMissing_ThrowsAndCreatesNothing()
    {
        // The writer never creates folders (callers do): a missing one fails before any byte is written, also as root.
        var missing = In("no-such-folder");

        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(Path.Combine(missing, "key.pem"), "pem"));
        Assert.False(Directory.Exists(missing));
        Assert.Empty(Names());
    }

    [SkippableFact]
    public void TryCreate_NoTarget_CreatesIt0600()
    {
        var path = In("report-signing.pem");

        Assert.True(AtomicFile.TryCreate(path, "key one"u8.ToArray()));

        Assert.Equal("key one", File.ReadAllText(path));
        Assert.Equal(["report-signing.pem"], Names());
        Skip.If(OperatingSystem.IsWindows(), "Unix modes");
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(path));
    }

    [Fact]
    public void TryCreate_TargetExists_FalseAndExistingKept()
    {
        var path = In("report-signing.pem");
        File.WriteAllText(path, "key one");

        Assert.False(AtomicFile.TryCreate(path, "key two"u8.ToArray()));

        Assert.Equal("key one", File.ReadAllText(path));
        Assert.Equal(["report-signing.pem"], Names());
    }

    [Fact]
    public void TryCreate_Racing_ExactlyOneWins()
    {
        var path = In("report-signing.pem");
        var wins = new bool[8];
        Parallel.For(0, wins.Length, i => wins[i] = AtomicFile.TryCreate(path, Encoding.ASCII.GetBytes($"key {i}")));

        var winner = Assert.Single(wins.Select((won, i) => (won, i)), w => w.won);
        Assert.Equal($"key {winner.i}", File.ReadAllText(path));
        Assert.Equal(["report-signing.pem"], Names());
    }

    private static class Libc
    {
        [DllImport("libc", EntryPoint = "umask")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern uint umask(uint mask);
    }
}
