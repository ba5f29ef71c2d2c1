using System.Runtime.InteropServices;
using System.Text;

namespace TrustPool.Tpm.Files;

/// <summary>
/// The one way TrustPool writes a whole file that someone else may read at any moment (keys, certificates, tokens,
/// software TPM state, the SIEM queue's files): the bytes go to a temporary file with a unique name in the target's
/// directory, created with <c>FileMode.CreateNew</c> and its final Unix mode (0600 unless told otherwise) before a
/// byte is written, so neither a secret nor a stale temporary file with looser permissions is ever exposed or reused;
/// it is flushed to disk (fsync) unless the caller opts out, then renamed over the target (or, with
/// <see cref="TryCreate"/>, linked into place only if the target does not exist). A reader sees the old file or the
/// new one, never a torn one; on any failure the temporary file is deleted and the target is untouched.
/// </summary>
/// <remarks>
/// It lives in TrustPool.Tpm, the bottom of ARCHITECTURE.md's project table, only because every project that writes
/// such files (Tpm, Attestation, Agent, Server) depends on it; it knows nothing of TPMs. The directory is not
/// fsynced (the rename is durable after the next directory sync; none of the callers needs more). The caller
/// creates the directory, with whatever mode it wants for it.
/// </remarks>
public static class AtomicFile
{
    /// <summary>0600: owner read and write (keys, tokens, state).</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0644: owner read and write, everyone read (public certificates).</summary>
    public const UnixFileMode WorldReadable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> by rename, replacing any existing file.
    /// <paramref name="flushToDisk"/> false skips the fsync: the rename is still atomic, the data may be lost on power loss.
    /// </summary>
    public static void Write(string path, ReadOnlyMemory<byte> content, UnixFileMode mode = OwnerOnly, bool flushToDisk = true) =>
        Write(path, stream => stream.Write(content.Span), mode, flushToDisk);

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte order mark) to <paramref name="path"/> by rename.</summary>
    public static void Write(string path, string text, UnixFileMode mode = OwnerOnly, bool flushToDisk = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, Encoding.UTF8.GetBytes(text), mode, flushToDisk);
    }

    /// <summary>
    /// Lets <paramref name="write"/> fill the temporary file (for content streamed from elsewhere), then renames it over
    /// <paramref name="path"/>. The stream is positioned at 0 and must not be disposed by <paramref name="write"/>.
    /// </summary>
    public static void Write(string path, Action<FileStream> write, UnixFileMode mode = OwnerOnly, bool flushToDisk = true)
    {
        ArgumentNullException.ThrowIfNull(write);
        var temp = CreateTemp(path, mode, write, flushToDisk);
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="content"/> (fsynced) only if it does not exist yet: false,
    /// and the existing file untouched, when it does (another process may have won the race).
    /// </summary>
    public static bool TryCreate(string path, ReadOnlyMemory<byte> content, UnixFileMode mode = OwnerOnly)
    {
        var temp = CreateTemp(path, mode, stream => stream.Write(content.Span), flushToDisk: true);
        try
        {
            if (OperatingSystem.IsWindows())
            {
                // MoveFileEx without MOVEFILE_REPLACE_EXISTING: exclusive on Windows.
                File.Move(temp, path, overwrite: false);
                return true;
            }

            // File.Move(overwrite: false) checks and then renames on Unix: two racing callers can both "win". link(2)
            // fails with EEXIST atomically when the target exists, so exactly one caller's file is linked into place.
            if (Link(temp, Path.GetFullPath(path)) == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == EExist)
            {
                return false;
            }

            throw new IOException($"link {temp} -> {path} failed: errno {errno}");
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    private static string CreateTemp(string path, UnixFileMode mode, Action<FileStream> write, bool flushToDisk)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

        // CreateNew: a file already at this name (it cannot be ours) is an error, never reused with its permissions.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        var stream = new FileStream(temp, options);
        try
        {
            using (stream)
            {
                write(stream);
                stream.Flush(flushToDisk);
            }
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }

        return temp;
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original failure is the one to report.
        }
    }

    /// <summary>EEXIST on Linux.</summary>
    private const int EExist = 17;

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string target);
}
