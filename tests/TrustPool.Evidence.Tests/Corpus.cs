using TrustPool.Tpm.Structures;
using System.Text.Json;
using TrustPool.Evidence.Replay;
using TrustPool.Testing;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests;

/// <summary>The real logs of ../shared/testdata (MANIFEST.md sections 2 and 3), read in place.</summary>
public static class Corpus
{
    public static readonly string[] UefiLogs =
    [
        "go-tpm-tools/internal/test/eventlogs/arch-linux-workstation.bin",
        "go-tpm-tools/internal/test/eventlogs/confidential-gke-debug-251000_eventlog.bin",
        "go-tpm-tools/internal/test/eventlogs/cos-101-amd-sev.bin",
        "go-tpm-tools/internal/test/eventlogs/cos-85-amd-sev.bin",
        "go-tpm-tools/internal/test/eventlogs/cos-93-amd-sev.bin",
        "go-tpm-tools/internal/test/eventlogs/debian-10.bin",
        "go-tpm-tools/internal/test/eventlogs/eventlogwithsp800155.bin",
        "go-tpm-tools/internal/test/eventlogs/gdc-host.bin",
        "go-tpm-tools/internal/test/eventlogs/glinux-alex.bin",
        "go-tpm-tools/internal/test/eventlogs/rhel8-uefi.bin",
        "go-tpm-tools/internal/test/eventlogs/ubuntu-1804-amd-sev.bin",
        "go-tpm-tools/internal/test/eventlogs/ubuntu-2104-no-dbx.bin",
        "go-tpm-tools/internal/test/eventlogs/ubuntu-2104-no-secure-boot.bin",
        "go-tpm-tools/internal/test/eventlogs/ubuntu-2404-amd-sevsnp.bin",
        "go-tpm-tools/derived/gce-cos-85-nonce9009/event_log.bin",
        "go-attestation/attest/testdata/coreos_36_shielded_vm_no_secure_boot_eventlog",
        "go-attestation/attest/testdata/crypto_agile_eventlog",
        "go-attestation/attest/testdata/ebs_event_missing_eventlog",
        "go-attestation/attest/testdata/option_rom_eventlog",
        "go-attestation/attest/testdata/sb_cert_eventlog",
        "go-attestation/attest/testdata/short_no_action_eventlog",
        "go-attestation/derived/windows_gcp_shielded_vm/eventlog.sha1-format.bin",
        "tpm2-tools/test/integration/fixtures/event-arch-linux.bin",
        "tpm2-tools/test/integration/fixtures/event-bootorder.bin",
        "tpm2-tools/test/integration/fixtures/event-moklisttrusted.bin",
        "tpm2-tools/test/integration/fixtures/event-postcode.bin",
        "tpm2-tools/test/integration/fixtures/event-sd-boot-fedora37.bin",
        "tpm2-tools/test/integration/fixtures/event-uefi-sha1-log.bin",
        "tpm2-tools/test/integration/fixtures/event-uefiaction.bin",
        "tpm2-tools/test/integration/fixtures/event-uefiservices.bin",
        "tpm2-tools/test/integration/fixtures/event-uefivar.bin",
        "tpm2-tools/test/integration/fixtures/event.bin",
        "tpm2-tools/test/integration/fixtures/specid-vendordata.bin",
        "tpm2-tss/derived/binary_measurements_hcrtm.bin",
        "tpm2-tss/derived/binary_measurements_pc_client.bin",
        "tpm2-tss/derived/specid-vendordata.bin",
        "ima-evm-utils/tests/sample-binary_bios_measurements-pcrs-8-9",
        "ima-evm-utils/tests/test_binary_bios_measurements",
        "keylime/test/data/create-mb-policy/binary_bios_measurements",
        "keylime/test/data/create-mb-policy/binary_bios_measurements-secureboot",
        "keylime/test/data/mb_log.b64",
        "rust-keylime/keylime/test-data/uefi_log.bin",
        "tcglog-parser/testdata/binary_bios_measurements",
    ];

    public static readonly string[] ImaLogs =
    [
        "tpm2-tss/derived/sml-ima-ng-sha1-invalidated.bin",
        "tpm2-tss/derived/sml-ima-ng-sha1.bin",
        "tpm2-tss/derived/sml-ima-sha1-invalidated.bin",
        "tpm2-tss/derived/sml-ima-sha1.bin",
        "tpm2-tss/derived/sml-ima-sig-sha256-invalidated.bin",
        "tpm2-tss/derived/sml-ima-sig-sha256.bin",
        "rust-keylime/keylime-agent/test-data/ima/ascii_runtime_measurements",
        "rust-keylime/keylime/test-data/ima_log.txt",
        "ima-evm-utils/tests/sample-ascii_runtime_measurements-pcrs-8-9",
        "ima-evm-utils/tests/test_ascii_runtime_measurements",
        "keylime/test/data/create-runtime-policy/ima-log-sha1",
        "keylime/test/data/create-runtime-policy/ima-log-sha256",
        "keylime/test/data/create-runtime-policy/ima-log-sha384",
        "keylime/test/data/create-runtime-policy/ima-log-sha512",
        "keylime/test/data/create-runtime-policy/ima-log-sm3_256",
        "keylime/derived/test_ima_verification/bad_signatures.ascii_runtime_measurements",
        "keylime/derived/test_ima_verification/keyrings.ascii_runtime_measurements",
        "keylime/derived/test_ima_verification/measurements.ascii_runtime_measurements",
        "keylime/derived/test_ima_verification/signatures.ascii_runtime_measurements",
    ];

    public static TheoryData<string> UefiLogData() => [.. UefiLogs];

    public static TheoryData<string> ImaLogData() => [.. ImaLogs];

    /// <summary>
    /// UEFI logs with values in EXPECTED_PCRS.json, except the ExitBootServices case that has tests of its
    /// own. Without the test data every log is listed, and each test then skips (or fails under
    /// TRUSTPOOL_REQUIRE_INTEGRATION=1) on the missing file.
    /// </summary>
    public static TheoryData<string> UefiLogsWithExpectedPcrs()
    {
        if (TestData.Root is null)
        {
            return [.. UefiLogs];
        }

        return [.. UefiLogs.Where(l => l != "go-attestation/attest/testdata/ebs_event_missing_eventlog" && ExpectedPcrs(l, out _) is not null)];
    }

    /// <summary>
    /// IMA lists whose PCR10 can be replayed: at least one complete entry with a SHA-1 template hash. Left
    /// out: tpm2-tss sml-ima-ng-sha1-invalidated.bin (no complete record) and keylime's hand-made
    /// ima-log-sm3_256 (32-byte template-hash column, no SHA-1 bank derivable; MANIFEST 3).
    /// </summary>
    public static TheoryData<string> ReplayableImaLogs() =>
        [.. ImaLogs.Where(l => l is not "tpm2-tss/derived/sml-ima-ng-sha1-invalidated.bin" and not "keylime/test/data/create-runtime-policy/ima-log-sm3_256")];

    /// <summary>Reads a corpus file in place; .b64 files are base64 of the binary log.</summary>
    public static byte[] Load(string relative)
    {
        var bytes = TestData.ReadBytes(relative.Split('/'));
        return relative.EndsWith(".b64", StringComparison.Ordinal)
            ? Convert.FromBase64String(System.Text.Encoding.ASCII.GetString(bytes))
            : bytes;
    }

    public static string FullPath(string relative) => TestData.Require(relative.Split('/'));

    /// <summary>EXPECTED_PCRS.json key for a corpus path (tpm2-tss keys name the .b64 the derived .bin came from).</summary>
    public static string ExpectedKey(string relative) => relative switch
    {
        "go-attestation/derived/windows_gcp_shielded_vm/eventlog.sha1-format.bin" => "go-attestation/attest/testdata/windows_gcp_shielded_vm.json (Log.Raw)",
        _ when relative.StartsWith("tpm2-tss/derived/", StringComparison.Ordinal) =>
            "tpm2-tss/test/data/fapi/eventlog/" + Path.GetFileNameWithoutExtension(relative) + ".b64",
        _ => relative,
    };

    private static readonly Lazy<JsonDocument> s_expectedPcrs = new(() => JsonDocument.Parse(TestData.ReadBytes("EXPECTED_PCRS.json")));
    private static readonly Lazy<JsonDocument> s_expectedIma = new(() => JsonDocument.Parse(TestData.ReadBytes("EXPECTED_IMA.json")));

    public static JsonElement ExpectedIma => s_expectedIma.Value.RootElement;

    /// <summary>The expected PCRs of a log, or null when EXPECTED_PCRS.json has none.</summary>
    public static PcrValues? ExpectedPcrs(string relative, out string source)
    {
        source = "";
        if (!s_expectedPcrs.Value.RootElement.TryGetProperty(ExpectedKey(relative), out var entry))
        {
            return null;
        }

        source = entry.GetProperty("source").GetString() ?? "";
        var values = new PcrValues();
        foreach (var bank in entry.GetProperty("banks").EnumerateObject())
        {
            Assert.True(TpmHash.TryParseName(bank.Name, out var alg), bank.Name);
            foreach (var pcr in bank.Value.EnumerateObject())
            {
                values.Set(alg, int.Parse(pcr.Name, System.Globalization.CultureInfo.InvariantCulture), Convert.FromHexString(pcr.Value.GetString()!));
            }
        }

        return values;
    }

    public static string? ExpectedNote(string relative) =>
        s_expectedPcrs.Value.RootElement.TryGetProperty(ExpectedKey(relative), out var entry) && entry.TryGetProperty("note", out var n)
            ? n.GetString() : null;
}
