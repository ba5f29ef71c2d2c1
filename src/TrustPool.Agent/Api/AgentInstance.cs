using TrustPool.Agent.Tpm;

namespace TrustPool.Agent.Api;

/// <summary>
/// One agent behind a listener: its path base, TPM and logs. Several may share one listener (simulated hosts), each
/// with its own TPM and TPM queue.
/// </summary>
public sealed class AgentInstance : IDisposable
{
    internal AgentInstance(string pathBase, AgentTpm tpm, string hostname, string? uefiLog, string? imaLog)
    {
        PathBase = pathBase;
        Tpm = tpm;
        Hostname = hostname;
        UefiLog = uefiLog;
        ImaLog = imaLog;
    }

    /// <summary>"" or "/agents/42" (no trailing slash).</summary>
    public string PathBase { get; }

    public AgentTpm Tpm { get; }

    public string Hostname { get; }

    public string? UefiLog { get; }

    public string? ImaLog { get; }

    /// <summary>"" or "/a/b" from "/", "a/b/", "/a/b/": the form the router compares.</summary>
    public static string NormalizePathBase(string? pathBase)
    {
        var p = (pathBase ?? "").Trim().TrimEnd('/');
        if (p.Length == 0)
        {
            return "";
        }

        return p[0] == '/' ? p : "/" + p;
    }

    public void Dispose() => Tpm.Dispose();
}
