using System.Text;

namespace TrustPool.Scheduling.Filters;

/// <summary>Used + requested must not exceed capacity on vCPUs, memory and disk (an exact fit passes).</summary>
internal static class CapacityFilter
{
    public const string Name = "CapacityFilter";

    public static bool Passes(HostView host, FilterContext c)
    {
        var r = c.Resources;
        var used = host.Used;
        var cap = host.Capacity;
        // long arithmetic: int vCPU sums cannot overflow into a false pass.
        return (long)used.VCpus + r.VCpus <= cap.VCpus
            && used.MemoryMb + r.MemoryMb <= cap.MemoryMb
            && used.DiskGb + r.DiskGb <= cap.DiskGb;
    }

    public static string Reason(HostView host, FilterContext c)
    {
        var r = c.Resources;
        var free = host.Capacity - host.Used;
        var sb = new StringBuilder();
        if (r.VCpus > free.VCpus)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"vCPU: needs {r.VCpus}, free {free.VCpus}");
        }

        if (r.MemoryMb > free.MemoryMb)
        {
            sb.Append(sb.Length > 0 ? "; " : "").Append(System.Globalization.CultureInfo.InvariantCulture, $"memory: needs {r.MemoryMb} MB, free {free.MemoryMb} MB");
        }

        if (r.DiskGb > free.DiskGb)
        {
            sb.Append(sb.Length > 0 ? "; " : "").Append(System.Globalization.CultureInfo.InvariantCulture, $"disk: needs {r.DiskGb} GB, free {free.DiskGb} GB");
        }

        return sb.Length > 0 ? sb.ToString() : "passes";
    }
}
