using System.CommandLine;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Cli.Commands;

internal static partial class TpmCommands
{
    private static Command CreateQuote()
    {
        var backend = new Option<string>("--tpm") { Description = "TPM backend: device:/dev/tpmrm0, swtpm:HOST:PORT or software:STATE_FILE", Required = true };
        var nonce = new Option<string>("--nonce") { Description = "Qualifying data (nonce), hex, at most 64 bytes", Required = true };
        var pcrs = new Option<string>("--pcrs") { Description = "PCR selection, tpm2-tools syntax: sha256:0,1,2,7+sha1:0", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for quote.msg, quote.sig, quote.pcrs, ak.pub, ak.tpm2b", Required = true };
        var akAlg = new Option<string>("--ak-alg") { Description = "AK algorithm: ecc (P-256, ECDSA-SHA256) or rsa (2048, RSASSA-SHA256)", DefaultValueFactory = _ => "ecc" };
        var cmd = new Command("quote", "Quote PCRs with the TPM's AK (a restricted signing key in the endorsement hierarchy) and write tpm2-tools files.")
        {
            backend, nonce, pcrs, output, akAlg,
        };
        cmd.SetAction(p => CliSupport.Run(() => Quote(p.GetValue(backend)!, p.GetValue(nonce)!, p.GetValue(pcrs)!, p.GetValue(output)!, p.GetValue(akAlg)!)));
        return cmd;
    }

    private static int Quote(string backend, string nonceHex, string pcrText, DirectoryInfo output, string akAlgorithm)
    {
        var nonce = CliSupport.ParseHex(nonceHex, "nonce");
        if (nonce.Length > TpmLimits.MaxDigestSize)
        {
            throw new CliUsageException($"nonce of {nonce.Length} bytes is longer than {TpmLimits.MaxDigestSize}");
        }

        PcrSelection selection;
        try
        {
            selection = PcrSelection.Parse(pcrText);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"--pcrs: {e.Message}");
        }

        var alg = akAlgorithm.ToLowerInvariant() switch
        {
            "ecc" or "ecdsa" => TpmKeyAlgorithm.EccP256,
            "rsa" => TpmKeyAlgorithm.Rsa2048,
            _ => throw new CliUsageException($"--ak-alg '{akAlgorithm}': expected ecc or rsa"),
        };

        using var tpm = TpmConnection.Open(backend);
        if (tpm.IsSimulator)
        {
            Console.Error.WriteLine($"warning: TPM backend {backend} is a simulator; its quotes prove nothing about real hardware");
        }

        var ak = tpm.CreateAk(alg);
        TpmAttestation quote;
        PcrValues values;
        try
        {
            quote = tpm.Quote(ak.Handle, nonce, selection);
            values = tpm.ReadPcrs(selection);
        }
        finally
        {
            if (ak.Handle.IsTransient)
            {
                tpm.FlushContext(ak.Handle);
            }
        }

        output.Create();
        using var key = AttestationKey.FromPublic(ak.Public);
        File.WriteAllBytes(Path.Combine(output.FullName, "quote.msg"), quote.Attest);
        File.WriteAllBytes(Path.Combine(output.FullName, "quote.sig"), quote.Signature);
        File.WriteAllBytes(Path.Combine(output.FullName, "quote.pcrs"), Tpm2ToolsPcrFile.Write(selection, values));
        File.WriteAllText(Path.Combine(output.FullName, "ak.pub"), key.ExportPem());
        File.WriteAllBytes(Path.Combine(output.FullName, "ak.tpm2b"), ak.Public.ToTpm2b());

        // Check our own output before anyone relies on it (PCRs could change between the quote and the read).
        var check = QuoteVerifier.Verify(key, quote.Attest, quote.Signature, values, nonce, selection);
        Console.WriteLine($"quote of {selection} written to {output.FullName} (AK name {Convert.ToHexStringLower(ak.Name)})");
        if (!check.IsValid)
        {
            Console.Error.WriteLine($"warning: the quote does not verify against the PCRs read after it: {check.Fault}");
            return Program.ExitRejected;
        }

        return Program.ExitOk;
    }
}
