using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TrustPool.Agent;
using TrustPool.Agent.Api;
using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Pools;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Exports;
using TrustPool.Evidence;
using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Uefi;
using TrustPool.Server;
using TrustPool.Server.Api;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Placements;
using TrustPool.Tpm;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Fuzz;

/// <summary>
/// One fuzz target per parser of untrusted bytes. Each feeds the bytes to the parser and swallows only the
/// exceptions that parser documents for bad input; anything else escapes and is a finding (afl++ sees a crash).
/// Shared by the afl++ harness (Program) and the corpus replay tests.
/// </summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Action<byte[]>> s_targets = new(StringComparer.Ordinal)
    {
        ["tpms-attest"] = TpmsAttestTarget,
        ["tpmt-public"] = TpmtPublicTarget,
        ["tpmt-signature"] = TpmtSignatureTarget,
        ["pcr-file"] = PcrFileTarget,
        ["tcg-eventlog"] = TcgEventLogTarget,
        ["ima-binary"] = ImaBinaryTarget,
        ["ima-ascii"] = ImaAsciiTarget,
        ["agent-request"] = AgentRequestTarget,
        ["service-request"] = ServiceRequestTarget,
        ["baseline-json"] = BaselineJsonTarget,
        ["pool-json"] = PoolJsonTarget,
        ["audit-export"] = AuditExportTarget,
        ["checkpoint"] = CheckpointTarget,
    };

    /// <summary>Key name of the fuzzing checkpoint key (a throwaway test key, so seeds carry valid signatures).</summary>
    public const string CheckpointKeyName = "fuzz.example";

    /// <summary>A throwaway P-256 key made for fuzzing only; it signs nothing outside the seeds.</summary>
    public const string CheckpointKeyPem = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg34LGGBapq/2mQWqq
        X1LL9nuVWWTOdJbMYu8TLwzkL7+hRANCAARWKAH456WXxZjLzdJfrkRPT+bnjs7e
        ZMVRiVssgXID0DGxVqYovwv0RWRa/OVMRjTVlRa50dXBNYkFsHtU1tNy
        -----END PRIVATE KEY-----
        """;

    private static readonly Lazy<CheckpointVerifier> s_verifier = new(() => new CheckpointVerifier(CheckpointKeyName, CheckpointKey()));

    public static ECDsa CheckpointKey()
    {
        var key = ECDsa.Create();
        key.ImportFromPem(CheckpointKeyPem);
        return key;
    }

    private static readonly IReadOnlySet<TpmAlgorithmId> s_agentBanks =
        new HashSet<TpmAlgorithmId> { TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256, TpmAlgorithmId.Sha384 };

    public static IReadOnlyCollection<string> Names => s_targets.Keys;

    public static bool TryGet(string name, out Action<byte[]> target) => s_targets.TryGetValue(name, out target!);

    public static void TpmsAttestTarget(byte[] data)
    {
        try
        {
            _ = TpmsAttest.Parse(data);
        }
        catch (TpmFormatException)
        {
        }
    }

    public static void TpmtPublicTarget(byte[] data)
    {
        try
        {
            _ = TpmtPublic.ParseEither(data);
        }
        catch (TpmFormatException)
        {
        }

        try
        {
            _ = TpmtPublic.ParseTpm2b(data);
        }
        catch (TpmFormatException)
        {
        }
    }

    public static void TpmtSignatureTarget(byte[] data)
    {
        try
        {
            _ = TpmtSignature.Parse(data);
        }
        catch (TpmFormatException)
        {
        }
    }

    public static void PcrFileTarget(byte[] data)
    {
        try
        {
            _ = Tpm2ToolsPcrFile.Read(data);
        }
        catch (TpmFormatException)
        {
        }
    }

    public static void TcgEventLogTarget(byte[] data)
    {
        TcgEventLog log;
        try
        {
            log = TcgEventLog.Parse(data);
        }
        catch (EventLogFormatException)
        {
            return;
        }

        // The decoder reads each event's data (UEFI variables, signature lists, device paths): untrusted too.
        foreach (var e in log.Events)
        {
            _ = TcgEventDecoder.TryDecode(e, 8, out _);
        }
    }

    public static void ImaBinaryTarget(byte[] data)
    {
        try
        {
            _ = ImaLog.ParseBinary(data);
        }
        catch (EventLogFormatException)
        {
        }

        try
        {
            _ = ImaLog.Parse(data);
        }
        catch (EventLogFormatException)
        {
        }
    }

    public static void ImaAsciiTarget(byte[] data)
    {
        try
        {
            _ = ImaLog.ParseAscii(data);
        }
        catch (EventLogFormatException)
        {
        }
    }

    public static void AgentRequestTarget(byte[] data)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(data, writable: false);
        context.Request.ContentLength = data.Length;
        try
        {
            using var doc = JsonRequest.ReadObjectAsync(context).GetAwaiter().GetResult();
            var root = doc.RootElement;
            Expect(() => JsonRequest.Base64(root, "nonce", AgentDefaults.MinNonceBytes, AgentDefaults.MaxNonceBytes));
            Expect(() => JsonRequest.Base64(root, "credentialBlob", 4, TpmLimits.MaxIdObjectSize));
            Expect(() => JsonRequest.Base64(root, "encryptedSecret", 1, TpmLimits.MaxEncryptedSecretSize));
            Expect(() => AgentEndpoints.ParseSelection(root, s_agentBanks));
            Expect(() => AgentEndpoints.ParseImaOffset(root));
        }
        catch (AgentProblem)
        {
        }

        static void Expect(Func<object?> parse)
        {
            try
            {
                _ = parse();
            }
            catch (AgentProblem)
            {
            }
        }
    }

    public static void ServiceRequestTarget(byte[] data)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(data, writable: false);
        context.Request.ContentLength = data.Length;
        try
        {
            using var body = JsonBody.ReadAsync(context.Request).GetAwaiter().GetResult();
            Expect(() => VerifyReportRequest.Parse(body));
            Expect(() => ImportBaselineRequest.Parse(body));
            Expect(() => CreateTokenRequest.Parse(body));
            Expect(() => CreateWebhookRequest.Parse(body));
            Expect(() => EnrollmentService.ParseRequest(body));
            Expect(() => ReEnrollHostRequest.Parse(body));
            Expect(() => SetHostTagsRequest.Parse(body));
            Expect(() => HostInventory.Parse(body));
        }
        catch (ServiceException)
        {
        }

        static void Expect(Func<object?> parse)
        {
            try
            {
                _ = parse();
            }
            catch (ServiceException)
            {
            }
        }
    }

    public static void BaselineJsonTarget(byte[] data)
    {
        try
        {
            _ = BaselineJson.Parse(Encoding.UTF8.GetString(data));
        }
        catch (BaselineFormatException)
        {
        }
    }

    public static void PoolJsonTarget(byte[] data)
    {
        var text = Encoding.UTF8.GetString(data);
        try
        {
            _ = PoolJson.Parse(text);
        }
        catch (PoolFormatException)
        {
        }

        try
        {
            _ = PoolJson.ParseStored(text);
        }
        catch (PoolFormatException)
        {
        }
    }

    public static void AuditExportTarget(byte[] data)
    {
        try
        {
            _ = AuditExportVerifier.Verify(Encoding.UTF8.GetString(data), [], null);
        }
        catch (AuditExportFormatException)
        {
        }
    }

    public static void CheckpointTarget(byte[] data)
    {
        var text = Encoding.UTF8.GetString(data);
        _ = Checkpoint.TryParse(text, out _, out _);
        _ = s_verifier.Value.TryVerify(text, out _, out _);
    }
}
