namespace TrustPool.Scheduling.Tests.Filters;

public class TrustFilterTests
{
    [Theory]
    [InlineData("trusted, valid", HostTrust.Trusted, 10, TrustRequirement.Required, true, null)]
    [InlineData("trusted, expired a minute ago", HostTrust.Trusted, -1, TrustRequirement.Required, false, "expired at 2026-11-27T11:59:00")]
    [InlineData("trusted, expires exactly now (now < validTo fails)", HostTrust.Trusted, 0, TrustRequirement.Required, false, "expired")]
    [InlineData("untrusted", HostTrust.Untrusted, 10, TrustRequirement.Required, false, "untrusted (report report-h1)")]
    [InlineData("unknown", HostTrust.Unknown, 10, TrustRequirement.Required, false, "trust unknown (report report-h1)")]
    [InlineData("no report", HostTrust.Trusted, null, TrustRequirement.Required, false, "no trust report")]
    [InlineData("untrusted, preferred", HostTrust.Untrusted, 10, TrustRequirement.Preferred, true, null)]
    [InlineData("unknown, any", HostTrust.Unknown, 10, TrustRequirement.Any, true, null)]
    [InlineData("expired, preferred", HostTrust.Trusted, -5, TrustRequirement.Preferred, true, null)]
    [InlineData("no report, any", HostTrust.Unknown, null, TrustRequirement.Any, true, null)]
    public void Place_HostTrust_FilteredAsRequired(string description, HostTrust trust, int? validMinutes, TrustRequirement requirement, bool pass, string? reason)
    {
        _ = description;
        var d = Fixture.PlaceOne(Fixture.Host("h1", trust, validMinutes), Fixture.Request(requirement));
        Fixture.AssertOutcome(d, pass, "TrustFilter", reason);
    }

    [Fact]
    public void Place_Trusted_RecordsReportIdAndValidTo()
    {
        var d = Fixture.PlaceOne(Fixture.Host("h1"), Fixture.Request());
        Assert.Equal("report-h1", d.ReportId);
        Assert.Equal(Fixture.Now.AddMinutes(10), d.ReportValidTo);
    }

    [Theory]
    [InlineData(HostTrust.Trusted, 10, HostTrust.Trusted)]
    [InlineData(HostTrust.Trusted, 0, HostTrust.Unknown)]
    [InlineData(HostTrust.Untrusted, -1, HostTrust.Unknown)]
    [InlineData(HostTrust.Untrusted, 1, HostTrust.Untrusted)]
    [InlineData(HostTrust.Trusted, null, HostTrust.Unknown)]
    public void TrustAt_Validity_ExpiredIsUnknown(HostTrust trust, int? validMinutes, HostTrust expected) =>
        Assert.Equal(expected, Fixture.Host("h", trust, validMinutes).TrustAt(Fixture.Now));

    [Fact]
    public void Place_ValidToInOtherOffset_ComparedAsInstant()
    {
        // 13:30+02:00 is 11:30 UTC: already expired at 12:00 UTC although the wall-clock digits are later.
        var host = Fixture.Host("h1") with { ValidTo = new DateTimeOffset(2026, 11, 27, 13, 30, 0, TimeSpan.FromHours(2)) };
        Fixture.AssertOutcome(Fixture.PlaceOne(host, Fixture.Request()), false, "TrustFilter", "expired");
    }
}
