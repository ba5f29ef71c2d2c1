using TrustPool.Testing;

namespace TrustPool.Tpm.Tests.Credentials;

/// <summary>
/// tpm2-tools 5.4 against one swtpm, run in a working directory. swtpm has no resource manager, so every step
/// flushes transient objects and sessions afterwards (RUNBOOK: otherwise 0x902 "out of memory for object contexts").
/// </summary>
internal sealed class Tpm2Tools(string tcti, string workingDirectory)
{
    private readonly Dictionary<string, string> _env = new() { ["TPM2TOOLS_TCTI"] = tcti };

    public ProcessResult Run(string tool, params string[] args) =>
        ProcessRunner.Run(Integration.RequireTool(tool), args, _env, workingDirectory, TimeSpan.FromSeconds(60));

    public void MustRun(string tool, params string[] args)
    {
        var r = Run(tool, args);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed: {r}");
        }
    }

    public void FlushAll()
    {
        Run("tpm2_flushcontext", "-t");
        Run("tpm2_flushcontext", "-s");
    }

    /// <summary>EK (TCG default template, "rsa" or "ecc") and an ECDSA P-256 AK under it: ek.ctx, ek.pub, ak.ctx, ak.pub, ak.name.</summary>
    public void CreateEkAndAk(string ekAlgorithm)
    {
        MustRun("tpm2_createek", "-c", "ek.ctx", "-G", ekAlgorithm, "-u", "ek.pub");
        FlushAll();
        MustRun("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-n", "ak.name");
        FlushAll();
    }

    /// <summary>tpm2_activatecredential with the EK authorized by a PolicySecret(TPM_RH_ENDORSEMENT) session.</summary>
    public ProcessResult ActivateCredential(string credentialFile, string outputFile)
    {
        FlushAll();
        MustRun("tpm2_startauthsession", "--policy-session", "-S", "session.ctx");
        MustRun("tpm2_policysecret", "-S", "session.ctx", "-c", "e");
        var r = Run("tpm2_activatecredential", "-c", "ak.ctx", "-C", "ek.ctx", "-i", credentialFile, "-o", outputFile, "-P", "session:session.ctx");
        Run("tpm2_flushcontext", "session.ctx");
        FlushAll();
        return r;
    }
}
