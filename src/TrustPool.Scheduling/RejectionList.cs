using System.Collections;
using TrustPool.Scheduling.Filters;

namespace TrustPool.Scheduling;

/// <summary>
/// Every rejected host of one decision. The count is known when the decision is made; the list itself is built on
/// first use by re-running the (pure) filters in pipeline order on the same hosts and clock, so a placement among
/// 100,000 hosts allocates nothing per rejected host unless someone reads the explanation.
/// </summary>
internal sealed class RejectionList(IReadOnlyList<HostView> hosts, FilterContext context, int count) : IReadOnlyList<Rejection>
{
    private Rejection[]? _items;

    public int Count => count;

    public Rejection this[int index] => Items[index];

    private Rejection[] Items
    {
        get
        {
            var items = Volatile.Read(ref _items);
            if (items is null)
            {
                items = Build();
                Volatile.Write(ref _items, items);
            }

            return items;
        }
    }

    public IEnumerator<Rejection> GetEnumerator() => ((IEnumerable<Rejection>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Rejection[] Build()
    {
        var list = new List<(HostView Host, int Index, FilterId Filter)>(count);
        for (var i = 0; i < hosts.Count; i++)
        {
            if (i == context.Excluded)
            {
                continue;
            }

            var h = hosts[i];
            var f = context.FirstFailing(h);
            if (f != FilterId.None)
            {
                list.Add((h, i, f));
            }
        }

        list.Sort(static (a, b) => string.CompareOrdinal(a.Host.Name, b.Host.Name) is var c && c != 0 ? c : a.Index.CompareTo(b.Index));
        var result = new Rejection[list.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = context.Describe(list[i].Host, list[i].Filter);
        }

        return result;
    }
}
