using System.Globalization;
using TrustPool.Testing;
using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Tests;

/// <summary>Real TPM structures from ../shared/testdata (MANIFEST.md section 1), read in place.</summary>
internal static class Fixtures
{
    public static byte[] Read(params string[] path) => TestData.ReadBytes(path);

    /// <summary>"index: hex" lines as the derived pcrs.txt files hold them.</summary>
    public static PcrValues ReadPcrText(TpmAlgorithmId bank, params string[] path)
    {
        var values = new PcrValues();
        foreach (var line in File.ReadAllLines(TestData.Require(path)))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            values.Set(bank, int.Parse(line[..colon].Trim(), CultureInfo.InvariantCulture), Convert.FromHexString(line[(colon + 1)..].Trim()));
        }

        return values;
    }

    /// <summary>Every real marshalled structure in the corpus with the parser that reads it.</summary>
    public static IEnumerable<(string Name, byte[] Bytes, Action<byte[]> Parse)> Corpus()
    {
        static IEnumerable<string> Files(string dir, string suffix) =>
            Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*" + suffix, SearchOption.AllDirectories) : [];

        var root = TestData.Root;
        if (root is null)
        {
            yield break;
        }

        foreach (var f in Files(root, ".tpms_attest.bin"))
        {
            yield return (Path.GetRelativePath(root, f), File.ReadAllBytes(f), b => TpmsAttest.Parse(b));
        }

        foreach (var f in Files(root, ".tpmt_signature.bin"))
        {
            yield return (Path.GetRelativePath(root, f), File.ReadAllBytes(f), b => TpmtSignature.Parse(b));
        }

        foreach (var f in Files(root, ".tpmt_public.bin"))
        {
            yield return (Path.GetRelativePath(root, f), File.ReadAllBytes(f), b => TpmtPublic.Parse(b));
        }

        foreach (var f in Files(root, ".tpm2b_public.bin"))
        {
            yield return (Path.GetRelativePath(root, f), File.ReadAllBytes(f), b => TpmtPublic.ParseTpm2b(b));
        }

        foreach (var f in Files(root, ".tpm2-tools-pcrs-format.bin"))
        {
            yield return (Path.GetRelativePath(root, f), File.ReadAllBytes(f), b => TrustPool.Tpm.Quotes.Tpm2ToolsPcrFile.Read(b));
        }
    }
}
