using System.Globalization;

namespace TrustPool.Scheduling;

/// <summary>An amount of the three resources the scheduler counts: vCPUs, memory in MB, disk in GB.</summary>
public readonly record struct Resources(int VCpus, long MemoryMb, long DiskGb)
{
    /// <summary>Nothing.</summary>
    public static Resources Zero => default;

    /// <summary>True when <paramref name="request"/> fits into this amount on all three resources (an exact fit fits).</summary>
    public bool Fits(Resources request) =>
        request.VCpus <= VCpus && request.MemoryMb <= MemoryMb && request.DiskGb <= DiskGb;

    /// <summary>Component-wise sum.</summary>
    public static Resources operator +(Resources left, Resources right) =>
        new(left.VCpus + right.VCpus, left.MemoryMb + right.MemoryMb, left.DiskGb + right.DiskGb);

    /// <summary>Component-wise difference (may go negative: an over-committed host).</summary>
    public static Resources operator -(Resources left, Resources right) =>
        new(left.VCpus - right.VCpus, left.MemoryMb - right.MemoryMb, left.DiskGb - right.DiskGb);

    /// <summary>Named alternative for <c>+</c>.</summary>
    public static Resources Add(Resources left, Resources right) => left + right;

    /// <summary>Named alternative for <c>-</c>.</summary>
    public static Resources Subtract(Resources left, Resources right) => left - right;

    /// <summary><c>4 vCPU, 8192 MB, 40 GB</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{VCpus} vCPU, {MemoryMb} MB, {DiskGb} GB");
}
