using System.CommandLine;
using TrustPool.Agent;
using TrustPool.Agent.Hosting;

namespace TrustPool.Cli.Commands;

/// <summary>
/// <c>trustpool agent --tpm BACKEND ...</c>: runs the trust agent until SIGTERM / Ctrl+C. Configuration layers, later
/// wins: defaults, <c>appsettings.json</c> (working directory), <c>TRUSTPOOL__Agent__*</c> environment variables, options.
/// </summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var tpm = new Option<string>("--tpm") { Description = "TPM backend: device:/dev/tpmrm0, swtpm:HOST:PORT or software:STATE_FILE" };
        var urls = new Option<string>("--urls") { Description = $"https URL(s) to listen on, ';'-separated (default {AgentDefaults.Urls}); a path in the URL is the agent's path base" };
        var serviceCa = new Option<string>("--service-ca") { Description = "PEM CA certificate(s): only clients with a certificate chaining to them are accepted" };
        var insecure = new Option<bool>("--insecure-no-client-auth") { Description = "Accept any client (no mutual TLS); warns every minute" };
        var uefiLog = new Option<string>("--uefi-log") { Description = "UEFI event log sent with quotes (e.g. /sys/kernel/security/tpm0/binary_bios_measurements)" };
        var imaLog = new Option<string>("--ima-log") { Description = "IMA measurement list sent incrementally with quotes" };
        var data = new Option<string>("--data") { Description = $"Data directory for the TLS certificate and key (default {AgentDefaults.DataDirectory})" };
        var akAlg = new Option<string>("--ak-alg") { Description = "AK algorithm: ecc (P-256, default) or rsa (2048)" };
        var ekAlg = new Option<string>("--ek-alg") { Description = "EK template: rsa (L-1, RSA 2048, default) or ecc (L-2, P-256)" };
        var akHandle = new Option<string>("--ak-handle") { Description = "Persistent handle of the AK (default 0x81010002)" };
        var cmd = new Command("agent", "Run the trust agent: serves TPM identity, credential activation and quotes over mutual TLS.")
        {
            tpm, urls, serviceCa, insecure, uefiLog, imaLog, data, akAlg, ekAlg, akHandle,
        };
        cmd.SetAction(p =>
        {
            var overrides = new Dictionary<string, string?>
            {
                [nameof(AgentOptions.Tpm)] = p.GetValue(tpm),
                [nameof(AgentOptions.Urls)] = p.GetValue(urls),
                [nameof(AgentOptions.ServiceCa)] = p.GetValue(serviceCa),
                [nameof(AgentOptions.InsecureNoClientAuth)] = p.GetValue(insecure) ? "true" : null,
                [nameof(AgentOptions.UefiLog)] = p.GetValue(uefiLog),
                [nameof(AgentOptions.ImaLog)] = p.GetValue(imaLog),
                [nameof(AgentOptions.DataDirectory)] = p.GetValue(data),
                [nameof(AgentOptions.AkAlgorithm)] = p.GetValue(akAlg),
                [nameof(AgentOptions.EkAlgorithm)] = p.GetValue(ekAlg),
                [nameof(AgentOptions.AkHandle)] = p.GetValue(akHandle),
            };

            // Shared with the standalone, Native AOT `trustpool-agent` executable (src/TrustPool.AgentHost).
            return AgentRunner.Run(overrides);
        });
        return cmd;
    }
}
