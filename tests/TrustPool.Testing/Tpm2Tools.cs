namespace TrustPool.Testing;

/// <summary>Runs tpm2-tools against one swtpm (no resource manager: flushes transient objects after each call).</summary>
public sealed class Tpm2Tools
{
    private readonly SwtpmInstance _tpm;

    public Tpm2Tools(SwtpmInstance tpm, string workDir)
    {
        _tpm = tpm;
        WorkDir = workDir;
    }

    public string WorkDir { get; }

    public string PathOf(string file) => System.IO.Path.Combine(WorkDir, file);

    public ProcessResult Run(string tool, params string[] args)
    {
        var exe = Integration.RequireTool(tool);
        var r = ProcessRunner.Run(exe, args, new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = _tpm.Tcti }, WorkDir, TimeSpan.FromSeconds(60));
        if (tool != "tpm2_flushcontext")
        {
            Flush();
        }

        return r;
    }

    public ProcessResult RunChecked(string tool, params string[] args)
    {
        var r = Run(tool, args);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed: {r}");
        }

        return r;
    }

    public void Flush()
    {
        var exe = Integration.RequireTool("tpm2_flushcontext");
        var env = new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = _tpm.Tcti };
        ProcessRunner.Run(exe, ["-t"], env, WorkDir);
        ProcessRunner.Run(exe, ["-s"], env, WorkDir);
    }
}
