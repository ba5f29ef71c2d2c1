namespace TrustPool.Attestation.Baselines;

/// <summary>Which PCRs each baseline kind takes from a reference host, for one boot architecture.</summary>
public sealed record BaselineTemplate(string Name, IReadOnlyDictionary<BaselineKind, int[]> Pcrs)
{
    /// <summary>UEFI measured boot (TCG PC Client PFP 1.05, 3.3.4): firmware and its configuration in PCR 0-7, grub in PCR 8-9.</summary>
    public static BaselineTemplate UefiMeasuredBoot { get; } = new("uefi", new Dictionary<BaselineKind, int[]>
    {
        [BaselineKind.Platform] = [0, 1, 2, 3, 4, 5, 6, 7],
        [BaselineKind.Os] = [8, 9],
    });

    /// <summary>Intel TXT with tboot: the SINIT/MLE in PCR 17, tboot's kernel and command line in PCR 18-19.</summary>
    public static BaselineTemplate TxtTboot { get; } = new("txt", new Dictionary<BaselineKind, int[]>
    {
        [BaselineKind.Platform] = [17],
        [BaselineKind.Os] = [18, 19],
    });

    /// <summary><c>uefi</c> or <c>txt</c> (case-insensitive); null for any other name.</summary>
    public static BaselineTemplate? Find(string name) => name?.ToUpperInvariant() switch
    {
        "UEFI" => UefiMeasuredBoot,
        "TXT" => TxtTboot,
        _ => null,
    };

    /// <summary>The PCRs of one kind (empty when the template has none).</summary>
    public IReadOnlyList<int> For(BaselineKind kind) => Pcrs.TryGetValue(kind, out var p) ? p : [];
}
