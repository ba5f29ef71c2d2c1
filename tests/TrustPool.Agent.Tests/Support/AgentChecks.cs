using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Agent.Tests.Support;

/// <summary>The service's side of enrollment and attestation, as the acceptance criteria state them.</summary>
public static class AgentChecks
{
    /// <summary>MakeCredential on the EK public from /v1/identity and the AK name; the agent must return the secret.</summary>
    public static async Task<JsonObject> EnrollAsync(AgentClient client)
    {
        var identity = await client.GetJsonAsync("v1/identity");
        var ek = TpmtPublic.ParseTpm2b(AgentClient.Bytes(identity, "ekPublic"));
        var ak = TpmtPublic.ParseTpm2b(AgentClient.Bytes(identity, "akPublic"));
        var akName = AgentClient.Bytes(identity, "akName");
        Assert.Equal(ak.Name, akName);
        Assert.True(ak.ObjectAttributes.HasFlag(TpmObjectAttributes.Restricted | TpmObjectAttributes.Sign | TpmObjectAttributes.FixedTpm));

        var secret = RandomNumberGenerator.GetBytes(32);
        var credential = CredentialProtection.MakeCredential(ek, akName, secret);
        var activated = await client.PostJsonAsync("v1/activate-credential", new
        {
            credentialBlob = Convert.ToBase64String(credential.CredentialBlob),
            encryptedSecret = Convert.ToBase64String(credential.EncryptedSecret),
        });
        Assert.Equal(secret, AgentClient.Bytes(activated, "secret"));
        return identity;
    }

    /// <summary>A fresh nonce, a quote, and QuoteVerifier with the AK from /v1/identity.</summary>
    public static async Task<QuoteVerification> QuoteAndVerifyAsync(AgentClient client, JsonObject identity, string bank = "sha256", int[]? pcrs = null)
    {
        pcrs ??= [0, 1, 2, 3, 4, 5, 6, 7];
        var nonce = RandomNumberGenerator.GetBytes(32);
        var quote = await client.PostJsonAsync("v1/quote", new Dictionary<string, object>
        {
            ["nonce"] = Convert.ToBase64String(nonce),
            ["selection"] = new Dictionary<string, int[]> { [bank] = pcrs },
        });
        using var ak = AttestationKey.FromPublic(TpmtPublic.ParseTpm2b(AgentClient.Bytes(identity, "akPublic")));
        Assert.True(TpmHash.TryParseName(bank, out var alg));
        var result = QuoteVerifier.Verify(ak, AgentClient.Bytes(quote, "quote"), AgentClient.Bytes(quote, "signature"), AgentClient.Pcrs(quote),
            nonce, PcrSelection.Single(alg, pcrs));
        Assert.True(result.IsValid, result.ToString());
        return result;
    }
}
