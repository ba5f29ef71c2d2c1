namespace TrustPool.Evidence.Uefi;

/// <summary>A named firmware or tool quirk TrustPool accepts deliberately, with where it was seen.</summary>
public sealed record EventLogWorkaround(string Name, string Description, string SeenIn);

/// <summary>
/// The one table of event log quirks (after go-attestation's eventlog_workarounds.go). The parser and
/// the verifier stay strict; each deviation they accept is listed here by name, narrowly triggered,
/// and reported back to the caller when it was applied, so nothing is loosened silently.
/// </summary>
public static class EventLogWorkarounds
{
    /// <summary>
    /// The Spec ID event's EventSize does not count the vendorInfo bytes: vendorInfoSize runs past the
    /// event, and the vendor bytes follow it in the log. Accepted only for the Spec ID event, only when
    /// the declared event ends right after vendorInfoSize and the missing bytes are present.
    /// </summary>
    public static readonly EventLogWorkaround SpecIdVendorInfoPastEventSize = new(
        "specid-vendorinfo-past-eventsize",
        "Spec ID event: vendorInfoSize counts bytes beyond EventSize; the vendor info is read from the bytes after the event.",
        "tpm2-tools test/integration/fixtures/specid-vendordata.bin (tpm2_eventlog accepts it)");

    /// <summary>
    /// Some HP firmware extends the two ExitBootServices EV_EFI_ACTION digests into PCR5 without logging
    /// them. Applied only when verifying against quoted values, only to PCR5, only when the log holds no
    /// ExitBootServices events and appending them makes PCR5 match exactly.
    /// </summary>
    public static readonly EventLogWorkaround MissingExitBootServicesEvents = new(
        "missing-exit-boot-services-events",
        "PCR5: the digests of EV_EFI_ACTION \"Exit Boot Services Invocation\" and \"Exit Boot Services Returned with Success\" were extended but not logged.",
        "go-attestation attest/testdata/ebs_event_missing_eventlog (HP), eventlog_workarounds.go");

    public static IReadOnlyList<EventLogWorkaround> All { get; } = [SpecIdVendorInfoPastEventSize, MissingExitBootServicesEvents];

    /// <summary>The two EV_EFI_ACTION strings of the ExitBootServices workaround, in extension order.</summary>
    public static IReadOnlyList<string> ExitBootServicesActions { get; } =
        ["Exit Boot Services Invocation", "Exit Boot Services Returned with Success"];

    /// <summary>
    /// <see cref="SpecIdVendorInfoPastEventSize"/>: how many bytes after the declared Spec ID event belong
    /// to its vendor info, or 0 when the quirk does not apply.
    /// </summary>
    internal static int SpecIdVendorInfoOverrun(int vendorInfoSize, int bytesLeftInEvent, int bytesLeftInLog)
    {
        if (bytesLeftInEvent != 0 || vendorInfoSize == 0)
        {
            return 0;
        }

        return vendorInfoSize <= bytesLeftInLog ? vendorInfoSize : 0;
    }
}
