using System.Net;
using System.Security.Cryptography;
using System.Text;
using TrustPool.Agent.Tests.Support;
using TrustPool.Tpm.Software;

using TrustPool.Testing;

namespace TrustPool.Agent.Tests.Api;

/// <summary>The quote carries the UEFI log as it is and the IMA list incrementally from an entry offset.</summary>
public sealed class LogTests
{
    private const string Line = "10 1d8d532d463c9f8c205d0df7787669a85f93e260 ima-ng sha1:0000000000000000000000000000000000000000 {0}\n";

    [Fact]
    public async Task Quote_UefiLogWhole_ImaLogFromOffset()
    {
        var dir = TestTemp.CreateDirectory("trustpool-agent-logs-").FullName;
        var uefi = Path.Combine(dir, "binary_bios_measurements");
        var ima = Path.Combine(dir, "ascii_runtime_measurements");
        var uefiBytes = RandomNumberGenerator.GetBytes(5000);
        File.WriteAllBytes(uefi, uefiBytes);
        var lines = new[] { "boot_aggregate", "/usr/bin/a", "/usr/bin/b" }.Select(p => string.Format(System.Globalization.CultureInfo.InvariantCulture, Line, p)).ToArray();
        File.WriteAllText(ima, string.Concat(lines));

        await using var agent = await AgentHarness.StartAsync(SoftwareTpm.CreateInMemory(), new AgentOptions { UefiLog = uefi, ImaLog = ima });
        using var client = agent.Client();

        var q0 = await client.PostJsonAsync("v1/quote", Request(null));
        Assert.Equal(uefiBytes, AgentClient.Bytes(q0, "uefiLog"));
        Assert.Equal(string.Concat(lines), Encoding.UTF8.GetString(AgentClient.Bytes(q0, "imaLog")));
        Assert.Equal(3, q0["imaNextOffset"]!.GetValue<int>());

        var q2 = await client.PostJsonAsync("v1/quote", Request(2));
        Assert.Equal(lines[2], Encoding.UTF8.GetString(AgentClient.Bytes(q2, "imaLog")));
        Assert.Equal(3, q2["imaNextOffset"]!.GetValue<int>());

        // The list grows; the next request picks up only what is new.
        File.AppendAllText(ima, string.Format(System.Globalization.CultureInfo.InvariantCulture, Line, "/usr/bin/c"));
        var q3 = await client.PostJsonAsync("v1/quote", Request(3));
        Assert.EndsWith("/usr/bin/c\n", Encoding.UTF8.GetString(AgentClient.Bytes(q3, "imaLog")), StringComparison.Ordinal);
        Assert.Equal(4, q3["imaNextOffset"]!.GetValue<int>());

        var q4 = await client.PostJsonAsync("v1/quote", Request(4));
        Assert.Empty(AgentClient.Bytes(q4, "imaLog"));

        using var beyond = await client.PostAsync("v1/quote", AgentClient.Json(Request(9)));
        Assert.Equal(HttpStatusCode.BadRequest, beyond.StatusCode);
        Assert.Contains("imaOffset", await beyond.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static Dictionary<string, object?> Request(int? imaOffset) => new()
    {
        ["nonce"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)),
        ["selection"] = new Dictionary<string, int[]> { ["sha256"] = [10] },
        ["imaOffset"] = imaOffset,
    };
}
