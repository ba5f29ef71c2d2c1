using System.Text.Json;
using TrustPool.Attestation.Evaluation;

namespace TrustPool.Attestation.Tests.Evaluation;

public class TrustReportJsonTests
{
    internal static TrustReport Sample(TrustLevel trust = TrustLevel.Untrusted) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Host = "node1",
        Trust = trust,
        EkTrust = "ca",
        VerifiedAt = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.FromHours(2)),
        ValidFrom = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.FromHours(2)),
        ValidTo = new DateTimeOffset(2026, 11, 27, 12, 10, 0, TimeSpan.FromHours(2)),
        Faults = [new Fault("NoPoolMatched", "no pool")],
        Pools =
        [
            new PoolResult("eu", 2, TrustLevel.Untrusted,
            [
                new RuleResult("platform", false, "p1", 3,
                [
                    new Fault("PcrMismatch", "PCR[0] sha256 expected 3d45a1b2.. got 9a1c77e0..; first differing event #12 EV_EFI_PLATFORM_FIRMWARE_BLOB")
                    {
                        Bank = "sha256", Index = 0, Expected = new string('3', 64), Actual = new string('9', 64), EventNumber = 12, EventType = "EV_EFI_PLATFORM_FIRMWARE_BLOB",
                    },
                ]),
            ]),
        ],
        Pcrs = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["sha256"] = new Dictionary<string, string> { ["0"] = new string('9', 64) } },
        Nonce = "00ff",
        Clock = new ReportClock(123456, 7, 0, true),
        Baselines = [new BaselineRef("p1", 3, "platform")],
    };

    [Fact]
    public void Serialize_ThenParse_RoundTripsEveryField()
    {
        var r = Sample();

        var parsed = TrustReportJson.Parse(TrustReportJson.Serialize(r));

        Assert.Equal((r.Id, r.Host, r.Trust, r.EkTrust, r.VerifiedAt, r.ValidFrom, r.ValidTo, r.Nonce, r.Clock),
            (parsed.Id, parsed.Host, parsed.Trust, parsed.EkTrust, parsed.VerifiedAt, parsed.ValidFrom, parsed.ValidTo, parsed.Nonce, parsed.Clock));
        Assert.Equal(r.Faults, parsed.Faults);
        Assert.Equal(r.Pools[0].Rules[0].Faults, parsed.Pools[0].Rules[0].Faults);
        Assert.Equal((r.Pools[0].Pool, r.Pools[0].PoolVersion, r.Pools[0].Trust), (parsed.Pools[0].Pool, parsed.Pools[0].PoolVersion, parsed.Pools[0].Trust));
        Assert.Equal(r.Pcrs["sha256"]["0"], parsed.Pcrs["sha256"]["0"]);
        Assert.Equal(r.Baselines, parsed.Baselines);
    }

    [Fact]
    public void Serialize_Report_CamelCaseLowerCaseEnumsIsoTimesNoNulls()
    {
        using var doc = JsonDocument.Parse(TrustReportJson.Serialize(Sample(TrustLevel.Trusted)));
        var root = doc.RootElement;

        Assert.Equal("trusted", root.GetProperty("trust").GetString());
        Assert.Equal("untrusted", root.GetProperty("pools")[0].GetProperty("trust").GetString());
        Assert.Equal("2026-11-27T12:10:00+02:00", root.GetProperty("validTo").GetString());
        Assert.Equal("ca", root.GetProperty("ekTrust").GetString());
        Assert.Equal(7u, root.GetProperty("clock").GetProperty("resetCount").GetUInt32());
        Assert.False(root.GetProperty("faults")[0].TryGetProperty("bank", out _));
        Assert.Equal("EV_EFI_PLATFORM_FIRMWARE_BLOB", root.GetProperty("pools")[0].GetProperty("rules")[0].GetProperty("faults")[0].GetProperty("eventType").GetString());
    }

    [Fact]
    public void Parse_UnknownTrustLevel_Throws()
    {
        var json = TrustReportJson.Serialize(Sample()).Replace("\"trust\":\"untrusted\"", "\"trust\":\"maybe\"", StringComparison.Ordinal);

        Assert.Throws<JsonException>(() => TrustReportJson.Parse(json));
    }
}
