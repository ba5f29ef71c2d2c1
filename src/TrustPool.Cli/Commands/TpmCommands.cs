using System.CommandLine;
using System.Globalization;
using TrustPool.Tpm;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Cli.Commands;

/// <summary><c>trustpool tpm quote|verify-quote</c>: TPM evidence in tpm2-tools' file formats.</summary>
internal static partial class TpmCommands
{
    public static Command Create()
    {
        var tpm = new Command("tpm", "Make and check TPM 2.0 quotes in tpm2-tools' file formats.");
        tpm.Subcommands.Add(CreateQuote());
        tpm.Subcommands.Add(CreateVerifyQuote());
        return tpm;
    }

    private static Command CreateVerifyQuote()
    {
        var ak = new Option<FileInfo>("--ak") { Description = "AK public key: PEM SubjectPublicKeyInfo, TPM2B_PUBLIC or TPMT_PUBLIC", Required = true };
        var message = new Option<FileInfo>("--message") { Description = "TPMS_ATTEST (tpm2_quote -m quote.msg)", Required = true };
        var signature = new Option<FileInfo>("--signature") { Description = "TPMT_SIGNATURE (tpm2_quote -s quote.sig)", Required = true };
        var pcrs = new Option<FileInfo>("--pcrs") { Description = "PCR values (tpm2_quote -o quote.pcrs, serialized format)", Required = true };
        var nonce = new Option<string>("--nonce") { Description = "The nonce (qualifying data) sent with the quote, hex", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var cmd = new Command("verify-quote", "Verify a quote: signature, magic, type, nonce, PCR selection and digest. Exit 0 valid, 1 rejected, 2 unreadable input.")
        {
            ak, message, signature, pcrs, nonce, json,
        };
        cmd.SetAction(p => CliSupport.Run(() => VerifyQuote(p.GetValue(ak)!, p.GetValue(message)!, p.GetValue(signature)!, p.GetValue(pcrs)!,
            p.GetValue(nonce)!, p.GetValue(json))));
        return cmd;
    }

    private static byte[] ReadFile(FileInfo f, string what, int maxBytes = 1 << 20)
    {
        if (!f.Exists)
        {
            throw new CliUsageException($"{what} file '{f.FullName}' does not exist");
        }

        if (f.Length > maxBytes)
        {
            throw new CliUsageException($"{what} file '{f.FullName}' is {f.Length} bytes, more than {maxBytes}");
        }

        return File.ReadAllBytes(f.FullName);
    }

    private static int VerifyQuote(FileInfo akFile, FileInfo messageFile, FileInfo signatureFile, FileInfo pcrsFile, string nonceHex, bool json)
    {
        var nonce = CliSupport.ParseHex(nonceHex, "nonce");
        using var key = AttestationKey.FromFileBytes(ReadFile(akFile, "AK"));
        var message = ReadFile(messageFile, "message");
        var signature = ReadFile(signatureFile, "signature");
        var (selection, pcrs) = Tpm2ToolsPcrFile.Read(ReadFile(pcrsFile, "PCR"));

        // The file declares which PCRs it holds: the quote must cover exactly those.
        var result = QuoteVerifier.Verify(key, message, signature, pcrs, nonce, selection);
        var exit = result.IsValid ? Program.ExitOk : result.Fault is MalformedEvidence ? Program.ExitUsage : Program.ExitRejected;
        if (json)
        {
            CliSupport.WriteJson(w => WriteResult(w, result, selection));
        }
        else if (result.IsValid)
        {
            var c = result.ClockInfo!.Value;
            Console.WriteLine($"quote valid: {selection} clock={c.Clock} resetCount={c.ResetCount} restartCount={c.RestartCount} safe={(c.Safe ? "yes" : "no")}");
            foreach (var (bank, index, value) in result.VerifiedPcrs!.All())
            {
                Console.WriteLine($"  {TpmHash.Name(bank)} {index,2}: {Convert.ToHexStringLower(value)}");
            }
        }
        else
        {
            Console.WriteLine($"quote rejected: {result.Fault}");
        }

        return exit;
    }

    private static void WriteResult(System.Text.Json.Utf8JsonWriter w, QuoteVerification result, PcrSelection selection)
    {
        w.WriteStartObject();
        w.WriteBoolean("valid", result.IsValid);
        if (result.Fault is { } f)
        {
            w.WriteStartObject("fault");
            w.WriteString("code", f.Code);
            w.WriteString("message", f.Describe());
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("fault");
        }

        w.WriteString("selection", selection.ToString());
        if (result.Attest is { } a)
        {
            w.WriteStartObject("clockInfo");
            w.WriteNumber("clock", a.ClockInfo.Clock);
            w.WriteNumber("resetCount", a.ClockInfo.ResetCount);
            w.WriteNumber("restartCount", a.ClockInfo.RestartCount);
            w.WriteBoolean("safe", a.ClockInfo.Safe);
            w.WriteEndObject();
            w.WriteString("firmwareVersion", a.FirmwareVersion.ToString("x16", CultureInfo.InvariantCulture));
            w.WriteString("extraData", Convert.ToHexStringLower(a.ExtraData));
        }

        if (result.VerifiedPcrs is { } pcrs)
        {
            w.WriteStartObject("pcrs");
            foreach (var bank in pcrs.All().GroupBy(x => x.Bank))
            {
                w.WriteStartObject(TpmHash.Name(bank.Key));
                foreach (var (_, index, value) in bank)
                {
                    w.WriteString(index.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(value));
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }
}
