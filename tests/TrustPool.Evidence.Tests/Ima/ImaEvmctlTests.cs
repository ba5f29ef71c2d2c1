using System.Text;
using TrustPool.Evidence.Ima;
using TrustPool.Testing;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Ima;

/// <summary>
/// evmctl (ima-evm-utils) as an independent oracle for binary lists (RUNBOOK): it replays the list and
/// compares with a sysfs-format PCR file; we hand it our PCR10 and it must agree, and a wrong value must not.
/// The hand-modified tpm2-tss *-invalidated lists are left out: on sml-ima-sig-sha256-invalidated.bin evmctl
/// extends zeros for the zero-hash entry where the kernel extends 0xFF.. (as EXPECTED_IMA.json and we do), and
/// on sml-ima-sha1-invalidated.bin (a single violation entry) it reports a match for any PCR value.
/// </summary>
[Trait("Category", "Integration")]
public class ImaEvmctlTests
{
    [SkippableTheory]
    [InlineData("tpm2-tss/derived/sml-ima-ng-sha1.bin")]
    [InlineData("tpm2-tss/derived/sml-ima-sha1.bin")]
    [InlineData("tpm2-tss/derived/sml-ima-sig-sha256.bin")]
    public void Replay_BinaryList_EvmctlAcceptsOurPcr10AndRejectsAnother(string path)
    {
        var evmctl = Integration.RequireTool("evmctl");
        var full = Corpus.FullPath(path);
        var ours = ImaReplay.Replay(ImaLog.Parse(File.ReadAllBytes(full)), [TpmAlgorithmId.Sha1]).Pcrs.Find(TpmAlgorithmId.Sha1, 10)!;
        var wrong = (byte[])ours.Clone();
        wrong[0] ^= 1;

        var accepted = ProcessRunner.Run(evmctl, ["-v", "ima_measurement", "--pcrs", "sha1," + PcrFile(ours), full]);
        var rejected = ProcessRunner.Run(evmctl, ["-v", "ima_measurement", "--pcrs", "sha1," + PcrFile(wrong), full]);

        Assert.True(accepted.ExitCode == 0, accepted.ToString());
        Assert.Contains("Matched per TPM bank", accepted.StdOut + accepted.StdErr, StringComparison.Ordinal);
        Assert.NotEqual(0, rejected.ExitCode);
    }

    /// <summary>The sysfs PCR format evmctl reads: 24 lines "PCR-NN: XX XX ..." (upper-case hex).</summary>
    private static string PcrFile(byte[] pcr10)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 24; i++)
        {
            var value = i == 10 ? pcr10 : new byte[20];
            sb.Append($"PCR-{i:D2}: ").Append(string.Join(' ', value.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)))).Append('\n');
        }

        var path = Path.Combine(TestTemp.CreateDirectory("trustpool-evmctl-").FullName, "pcrs");
        File.WriteAllText(path, sb.ToString());
        return path;
    }
}
