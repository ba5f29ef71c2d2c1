using System.Security.Cryptography.X509Certificates;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Transport;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Client;

/// <summary>Replays exchanges recorded from swtpm (Client/Recorded), unchanged and mutated.</summary>
public sealed class TpmClientRecordedTests
{
    private static readonly byte[] s_nonce = Convert.FromHexString("00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF");

    /// <summary>The client call that produced each recording, and a check of its result on the unchanged replay.</summary>
    private static readonly Dictionary<string, (Func<TpmClient, object> Call, Action<object> Check)> s_operations = new()
    {
        ["get-info"] = (t => t.GetInfo(), o => Assert.Equal("IBM", ((TpmInfo)o).Manufacturer)),
        ["pcr-read-48"] = (t => t.ReadPcrs(PcrSelection.Parse("sha1:all+sha256:all")), o => Assert.Equal(48, ((PcrValues)o).All().Count())),
        ["create-ak-ecc"] = (t => t.CreateAk(TpmKeyAlgorithm.EccP256), o => Assert.Equal(TpmTemplates.AkAttributes, ((TpmKey)o).Public.ObjectAttributes)),
        ["create-ak-rsa"] = (t => t.CreateAk(TpmKeyAlgorithm.Rsa2048), o => Assert.Equal(256, ((TpmKey)o).Public.Rsa!.Modulus.Length)),
        ["read-public"] = (t => t.ReadPublic(new TpmHandle(0x80000000)), o => Assert.Equal(TpmAlgorithmId.Ecc, ((TpmtPublic)o).Type)),
        ["quote-ecc"] = (t => t.Quote(new TpmHandle(0x80000000), s_nonce, PcrSelection.Parse("sha256:0,1,2,7+sha1:7")),
            o => Assert.Equal(s_nonce, TpmsAttest.Parse(((TpmAttestation)o).Attest).ExtraData)),
        ["quote-rsa"] = (t => t.Quote(new TpmHandle(0x80000001), s_nonce, PcrSelection.Parse("sha256:0-23")),
            o => Assert.Equal(s_nonce, TpmsAttest.Parse(((TpmAttestation)o).Attest).ExtraData)),
        ["nv-read-ek-cert"] = (t => t.NvRead(TpmHandle.EkCertificateRsaNvIndex), o =>
        {
            using var cert = X509CertificateLoader.LoadCertificate((byte[])o);
            Assert.NotNull(cert.GetRSAPublicKey());
        }),
    };

    public static TheoryData<string> Recordings() => [.. s_operations.Keys];

    private static (List<byte[]> Commands, List<byte[]> Responses) Load(string name)
    {
        var commands = new List<byte[]>();
        var responses = new List<byte[]>();
        foreach (var line in File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Client", "Recorded", name + ".txt")))
        {
            if (line.StartsWith("> ", StringComparison.Ordinal))
            {
                commands.Add(Convert.FromHexString(line[2..]));
            }
            else if (line.StartsWith("< ", StringComparison.Ordinal))
            {
                responses.Add(Convert.FromHexString(line[2..]));
            }
        }

        return (commands, responses);
    }

    /// <summary>Answers with the recorded responses in order; a bounded number of calls (a looping client fails the test).</summary>
    private sealed class ReplayTransport(List<byte[]> responses) : ITpmTransport
    {
        public List<byte[]> Commands { get; } = [];

        public byte[] Execute(ReadOnlySpan<byte> command)
        {
            Commands.Add(command.ToArray());
            if (Commands.Count > 64)
            {
                throw new TooManyCallsException();
            }

            // After the recording: success with no parameters (what FlushContext of a cleanup expects).
            return Commands.Count <= responses.Count ? responses[Commands.Count - 1] : Convert.FromHexString("80010000000A00000000");
        }

        public void Dispose()
        {
        }
    }

    private sealed class TooManyCallsException : Exception;

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Replay_Unchanged_SameCommandBytesAndResult(string name)
    {
        var (commands, responses) = Load(name);
        var transport = new ReplayTransport(responses);
        using (var tpm = new TpmClient(transport))
        {
            var (call, check) = s_operations[name];
            check(call(tpm));
        }

        Assert.Equal(commands.Select(Convert.ToHexString), transport.Commands.Select(Convert.ToHexString));
    }

    /// <summary>
    /// Property (fixed seed): any truncation, byte flip, size-field blow-up or insertion in any one response ends in
    /// TpmFormatException, TpmException, InvalidOperationException (PCR read made no progress) or NotSupportedException
    /// (index readable only by policy, unsupported nameAlg) — or in a result; never another exception or a loop.
    /// </summary>
    [Theory]
    [MemberData(nameof(Recordings))]
    public void Replay_Mutated_OnlyDocumentedExceptions(string name)
    {
        var (_, responses) = Load(name);
        var random = new Random(20261127 ^ name.Length);
        for (var iteration = 0; iteration < 400; iteration++)
        {
            var mutated = responses.Select(r => (byte[])r.Clone()).ToList();
            var k = random.Next(mutated.Count);
            var (bytes, how) = Mutate(mutated[k], random);
            mutated[k] = bytes;
            var transport = new ReplayTransport(mutated);
            using var tpm = new TpmClient(transport);
            var e = Record.Exception(() => s_operations[name].Call(tpm));
            Assert.False(e is TooManyCallsException, $"{name} #{iteration} ({how} in response {k}): the client kept sending commands");
            Assert.True(e is null or TpmFormatException or TpmException or InvalidOperationException or NotSupportedException,
                $"{name} #{iteration} ({how} in response {k}): {e}");
        }
    }

    private static (byte[] Bytes, string How) Mutate(byte[] response, Random random)
    {
        var patchSize = random.Next(2) == 0;
        byte[] result;
        string how;
        switch (random.Next(4))
        {
            case 0:
                result = response[..random.Next(response.Length)];
                how = $"truncated to {result.Length}";
                break;
            case 1:
                result = (byte[])response.Clone();
                var at = random.Next(result.Length);
                result[at] ^= (byte)(1 << random.Next(8));
                how = $"bit flipped at {at}";
                patchSize = false;
                break;
            case 2:
                result = (byte[])response.Clone();
                var pos = random.Next(Math.Max(1, result.Length - 1));
                result[pos] = 0xFF;
                if (pos + 1 < result.Length)
                {
                    result[pos + 1] = (byte)random.Next(256);
                }

                how = $"0xFF.. written at {pos}";
                patchSize = false;
                break;
            default:
                var insertAt = random.Next(10, response.Length + 1);
                var extra = new byte[random.Next(1, 8)];
                random.NextBytes(extra);
                result = [.. response[..insertAt], .. extra, .. response[insertAt..]];
                how = $"{extra.Length} bytes inserted at {insertAt}";
                break;
        }

        if (patchSize && result.Length >= 6)
        {
            result[2] = (byte)(result.Length >> 24);
            result[3] = (byte)(result.Length >> 16);
            result[4] = (byte)(result.Length >> 8);
            result[5] = (byte)result.Length;
            how += ", size field patched";
        }

        return (result, how);
    }
}
