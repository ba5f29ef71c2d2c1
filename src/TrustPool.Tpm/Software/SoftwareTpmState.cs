using System.Text.Json;
using System.Text.Json.Serialization;
using TrustPool.Tpm.Files;

namespace TrustPool.Tpm.Software;

/// <summary>
/// What the software TPM keeps across restarts (the "NV memory" of a real TPM): keys with their public areas,
/// counters, clock, persistent handles and NV indices. Stored as JSON; private keys are PKCS#8, so the file is
/// created with mode 0600. PCRs and transient objects are deliberately absent: they do not survive a restart.
/// </summary>
internal sealed class SoftwareTpmState
{
    public const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;

    /// <summary>TPMS_CLOCK_INFO.clock (ms the TPM has been powered) at the last save.</summary>
    public ulong ClockMs { get; set; }

    public uint ResetCount { get; set; }

    public uint RestartCount { get; set; }

    /// <summary>Keys by slot ("ek-rsa", "ek-ecc", "ak-rsa", "ak-ecc"): created once, then the same key for every CreateEk/CreateAk.</summary>
    public Dictionary<string, StoredKey> Keys { get; set; } = [];

    /// <summary>Persistent handles (0x81xxxxxx) and the key slot each refers to.</summary>
    public Dictionary<uint, string> Persistent { get; set; } = [];

    public Dictionary<uint, StoredNvIndex> Nv { get; set; } = [];
}

internal sealed class StoredKey
{
    /// <summary>The marshalled TPMT_PUBLIC (its hash is the key's Name).</summary>
    public byte[] Public { get; set; } = [];

    /// <summary>PKCS#8 PrivateKeyInfo.</summary>
    public byte[] Pkcs8 { get; set; } = [];
}

internal sealed class StoredNvIndex
{
    public uint Attributes { get; set; }

    public ushort Size { get; set; }

    public bool Written { get; set; }

    public byte[] Data { get; set; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(SoftwareTpmState))]
internal sealed partial class SoftwareTpmJsonContext : JsonSerializerContext;

internal static class SoftwareTpmStateFile
{
    public static SoftwareTpmState Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new SoftwareTpmState();
        }

        SoftwareTpmState? state;
        try
        {
            state = JsonSerializer.Deserialize(bytes, SoftwareTpmJsonContext.Default.SoftwareTpmState);
        }
        catch (JsonException e)
        {
            throw Corrupt(path, "not a valid state document: " + e.Message, e);
        }

        if (state is null)
        {
            throw Corrupt(path, "the document is null");
        }

        if (state.Version != SoftwareTpmState.CurrentVersion)
        {
            throw Corrupt(path, $"state version {state.Version} is not supported (this build reads version {SoftwareTpmState.CurrentVersion})");
        }

        state.Keys ??= [];
        state.Persistent ??= [];
        state.Nv ??= [];
        foreach (var (slot, key) in state.Keys)
        {
            if (!SoftwareTpm.IsKnownSlot(slot) || key is null || key.Public is not { Length: > 0 } || key.Pkcs8 is not { Length: > 0 })
            {
                throw Corrupt(path, $"key '{slot}' is unknown or incomplete");
            }
        }

        foreach (var (handle, slot) in state.Persistent)
        {
            if ((handle >> 24) != 0x81 || slot is null || !state.Keys.ContainsKey(slot))
            {
                throw Corrupt(path, $"persistent handle 0x{handle:x8} refers to no stored key");
            }
        }

        foreach (var (index, nv) in state.Nv)
        {
            if ((index >> 24) != 0x01 || nv is null || nv.Data is null || nv.Data.Length != nv.Size || nv.Size > Structures.TpmLimits.MaxNvBufferSize)
            {
                throw Corrupt(path, $"NV index 0x{index:x8} is inconsistent");
            }
        }

        return state;
    }

    /// <summary>
    /// Writes the state by <see cref="AtomicFile"/> (mode 0600, renamed over the target), so a reader sees the old or
    /// the new state, never a torn one. No fsync: a simulated host may lose its last seconds of clock or an NV write on
    /// power loss (ext4's rename-replace heuristics still order the data before the rename), but opening stays cheap
    /// enough for thousands of simulated hosts (an fsync per open measured ~10 ms here).
    /// </summary>
    public static void Save(string path, SoftwareTpmState state)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(state, SoftwareTpmJsonContext.Default.SoftwareTpmState);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        AtomicFile.Write(path, bytes, AtomicFile.OwnerOnly, flushToDisk: false);
    }

    public static InvalidDataException Corrupt(string path, string detail, Exception? inner = null) =>
        new($"software TPM state file '{path}' is corrupt: {detail}", inner);
}
