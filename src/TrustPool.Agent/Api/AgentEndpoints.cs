using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using TrustPool.Agent.Tpm;
using TrustPool.Evidence;
using TrustPool.Evidence.Ima;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Agent.Api;

/// <summary>The Agent API (ARCHITECTURE.md "Agent API"), relative to each agent's path base. JSON, bytes as base64.</summary>
internal static class AgentEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, AgentHost host)
    {
        routes.MapGet("/v1/identity", Wrap(host, Identity));
        routes.MapPost("/v1/quote", Wrap(host, Quote));
        routes.MapPost("/v1/activate-credential", Wrap(host, ActivateCredential));
        routes.MapGet("/v1/health", Wrap(host, Health));
    }

    private static RequestDelegate Wrap(AgentHost host, Func<HttpContext, AgentInstance, AgentHost, Task> handler) => async context =>
    {
        try
        {
            var agent = context.Features.Get<AgentInstance>() ?? throw new AgentProblem(404, AgentProblem.NotFound, "Not found", "no agent at this path");
            await handler(context, agent, host);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            await ToProblem(e, context, host.Logger).WriteAsync(context);
        }
    };

    internal static AgentProblem ToProblem(Exception e, HttpContext context, ILogger logger)
    {
        switch (e)
        {
            case AgentProblem p:
                return p;
            case BadHttpRequestException b:
                return b.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? new AgentProblem(413, AgentProblem.BodyTooLarge, "Request body too large", b.Message, "body")
                    : new AgentProblem(400, AgentProblem.MalformedJson, "Bad request", b.Message, "body");
            case TpmBusyException busy:
                AgentLog.TpmQueueFull(logger, busy.Message);
                return new AgentProblem(503, AgentProblem.TpmBusy, "TPM busy", busy.Message) { RetryAfterSeconds = AgentDefaults.RetryAfterSeconds };
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return new AgentProblem(400, AgentProblem.MalformedJson, "Request aborted", "the client went away", "body");
            case var t when AgentTpm.IsTpmFailure(t):
                AgentLog.TpmFailed(logger, t.Message);
                return new AgentProblem(503, AgentProblem.TpmFailure, "TPM failure", t.Message)
                {
                    TpmResponseCode = AgentTpm.ResponseCode(t),
                    RetryAfterSeconds = AgentDefaults.RetryAfterSeconds,
                };
            default:
                AgentLog.Unexpected(logger, context.Request.Path, e);
                return new AgentProblem(500, AgentProblem.Internal, "Internal error", "internal error");
        }
    }

    private static async Task Identity(HttpContext context, AgentInstance agent, AgentHost host)
    {
        var id = agent.Tpm.Identity;
        await WriteJsonAsync(context, w =>
        {
            w.WriteBase64String("ekPublic", id.EkPublic);
            if (id.EkCertificate is not null)
            {
                w.WriteBase64String("ekCertificate", id.EkCertificate);
            }

            w.WriteBase64String("akPublic", id.AkPublic);
            w.WriteBase64String("akName", id.AkName);
            w.WriteString("tlsFingerprint", host.TlsFingerprint);
            w.WriteString("hostname", agent.Hostname);
            w.WriteStartObject("tpm");
            w.WriteString("manufacturer", id.Info.Manufacturer);
            w.WriteString("vendor", id.Info.VendorString);
            w.WriteString("firmwareVersion", id.Info.FirmwareVersionText);
            w.WriteBoolean("simulator", agent.Tpm.IsSimulator);
            w.WriteEndObject();
            w.WriteStartArray("banks");
            foreach (var b in id.Info.PcrBanks)
            {
                w.WriteStringValue(TpmHash.Name(b));
            }

            w.WriteEndArray();
        });
    }

    private static async Task Health(HttpContext context, AgentInstance agent, AgentHost host)
    {
        await agent.Tpm.PingAsync(context.RequestAborted);
        await WriteJsonAsync(context, w =>
        {
            w.WriteString("status", "ok");
            w.WriteNumber("tpmQueue", agent.Tpm.Gate.Waiting);
        });
    }

    private static async Task ActivateCredential(HttpContext context, AgentInstance agent, AgentHost host)
    {
        byte[] blob, secret;
        using (var doc = await JsonRequest.ReadObjectAsync(context))
        {
            var root = doc.RootElement;
            blob = JsonRequest.Base64(root, "credentialBlob", 4, TpmLimits.MaxIdObjectSize)!;
            secret = JsonRequest.Base64(root, "encryptedSecret", 1, TpmLimits.MaxEncryptedSecretSize)!;
        }

        byte[] credential;
        try
        {
            credential = await agent.Tpm.ActivateCredentialAsync(blob, secret, context.RequestAborted);
        }
        catch (Exception e) when (AgentTpm.ResponseCode(e) is { } rc && (rc & 0xC0) == 0xC0)
        {
            // Format-1 parameter error (Part 2, 6.6.3): the TPM refused the blob or secret itself; retrying cannot help.
            throw new AgentProblem(400, AgentProblem.CredentialRejected, "Credential rejected", e.Message, (rc & 0xF00) == 0x200 ? "encryptedSecret" : "credentialBlob")
            {
                TpmResponseCode = rc,
            };
        }

        await WriteJsonAsync(context, w => w.WriteBase64String("secret", credential));
    }

    private static async Task Quote(HttpContext context, AgentInstance agent, AgentHost host)
    {
        byte[] nonce;
        PcrSelection selection;
        int imaOffset;
        using (var doc = await JsonRequest.ReadObjectAsync(context))
        {
            var root = doc.RootElement;
            nonce = JsonRequest.Base64(root, "nonce", AgentDefaults.MinNonceBytes, AgentDefaults.MaxNonceBytes)!;
            selection = ParseSelection(root, agent.Tpm.Banks);
            imaOffset = ParseImaOffset(root);
        }

        var quote = await agent.Tpm.QuoteAsync(nonce, selection, context.RequestAborted);

        // Logs are read after the quote: they hold at least what the quoted PCRs cover (the verifier replays a prefix).
        var uefi = agent.UefiLog is null ? null : ReadLog(agent.UefiLog, host.Logger);
        byte[]? ima = null;
        var imaNext = 0;
        if (agent.ImaLog is not null && ReadLog(agent.ImaLog, host.Logger) is { } imaBytes)
        {
            (ima, imaNext) = SliceIma(imaBytes, imaOffset);
        }

        await WriteJsonAsync(context, w =>
        {
            w.WriteBase64String("quote", quote.Attestation.Attest);
            w.WriteBase64String("signature", quote.Attestation.Signature);
            w.WriteStartObject("pcrs");
            Span<char> key = stackalloc char[2];
            foreach (var bank in selection)
            {
                w.WriteStartObject(TpmHash.Name(bank.Hash));
                foreach (var i in bank.Indices)
                {
                    i.TryFormat(key, out var n, default, System.Globalization.CultureInfo.InvariantCulture);
                    w.WriteString(key[..n], Convert.ToHexStringLower(quote.Pcrs.Get(bank.Hash, i)));
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            if (uefi is not null)
            {
                w.WriteBase64String("uefiLog", uefi);
            }

            if (ima is not null)
            {
                w.WriteBase64String("imaLog", ima);
                w.WriteNumber("imaNextOffset", imaNext);
            }
        });
    }

    internal static PcrSelection ParseSelection(JsonElement root, IReadOnlySet<TpmAlgorithmId> banks)
    {
        if (!root.TryGetProperty("selection", out var sel))
        {
            throw AgentProblem.Invalid("selection", "'selection' is required, e.g. {\"sha256\":[0,1,2,7]}");
        }

        if (sel.ValueKind != JsonValueKind.Object)
        {
            throw AgentProblem.Invalid("selection", $"'selection' must be an object of bank: [indices], not {sel.ValueKind}");
        }

        var result = new List<PcrBankSelection>();
        foreach (var bank in sel.EnumerateObject())
        {
            var field = "selection." + bank.Name;
            if (!TpmHash.TryParseName(bank.Name, out var alg) || !banks.Contains(alg))
            {
                throw AgentProblem.Invalid(field, $"this TPM has no PCR bank '{bank.Name}' (it has {string.Join(", ", banks.Order().Select(TpmHash.Name))})");
            }

            if (result.Exists(b => b.Hash == alg))
            {
                throw AgentProblem.Invalid(field, $"bank '{bank.Name}' appears twice");
            }

            if (bank.Value.ValueKind != JsonValueKind.Array)
            {
                throw AgentProblem.Invalid(field, $"'{field}' must be an array of PCR indices, not {bank.Value.ValueKind}");
            }

            uint mask = 0;
            foreach (var item in bank.Value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var index) || index < 0 || index > AgentDefaults.MaxPcrIndex)
                {
                    throw AgentProblem.Invalid(field, $"'{field}' holds {item.GetRawText()}, not a PCR index 0..{AgentDefaults.MaxPcrIndex}");
                }

                mask |= 1u << index;
            }

            if (mask == 0)
            {
                throw AgentProblem.Invalid(field, $"'{field}' selects no PCR");
            }

            result.Add(new PcrBankSelection(alg, mask));
        }

        if (result.Count == 0)
        {
            throw AgentProblem.Invalid("selection", "'selection' selects no bank");
        }

        return new PcrSelection(result);
    }

    internal static int ParseImaOffset(JsonElement root)
    {
        if (!root.TryGetProperty("imaOffset", out var e) || e.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }

        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var offset) || offset < 0)
        {
            throw AgentProblem.Invalid("imaOffset", $"'imaOffset' must be an entry number >= 0, not {e.GetRawText()}");
        }

        return offset;
    }

    /// <summary>
    /// The IMA entries from entry number <paramref name="offset"/> on, as the bytes of the list (same format as the file),
    /// and the entry number to ask for next time. A partial record at the end (the list grows while read) is left for next time.
    /// </summary>
    private static (byte[] Bytes, int Next) SliceIma(byte[] bytes, int offset)
    {
        ImaLog log;
        try
        {
            log = TrustPool.Evidence.Ima.ImaLog.Parse(bytes);
        }
        catch (EventLogFormatException e)
        {
            // The host's own list is unparseable: send it whole from the start and let the verifier report it.
            _ = e;
            return (offset == 0 ? bytes : [], 0);
        }

        var entries = log.Entries;
        if (offset > entries.Count)
        {
            throw AgentProblem.Invalid("imaOffset", $"'imaOffset' {offset} is beyond the {entries.Count} entries of the IMA log (was the host rebooted?)");
        }

        var end = bytes.Length - log.TrailingBytes;
        var start = offset == entries.Count ? end : (int)entries[offset].Offset;
        return (bytes[start..end], entries.Count);
    }

    private static byte[]? ReadLog(string path, ILogger logger)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            // securityfs files report length 0: read to the end, bounded.
            using var ms = new MemoryStream();
            var buffer = new byte[81920];
            int n;
            while ((n = f.Read(buffer)) > 0)
            {
                if (ms.Length + n > AgentDefaults.MaxLogBytes)
                {
                    throw new IOException($"larger than {AgentDefaults.MaxLogBytes} bytes");
                }

                ms.Write(buffer, 0, n);
            }

            return ms.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            AgentLog.LogFileUnreadable(logger, path, e.Message);
            return null;
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> body)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await using (var w = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
