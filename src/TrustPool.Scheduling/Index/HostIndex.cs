using TrustPool.Scheduling.Filters;
using TrustPool.Scheduling.Weighers;

namespace TrustPool.Scheduling.Index;

/// <summary>
/// What the filters and weighers read of each host, laid out as one array per field (a few bytes per host, scanned
/// in order) instead of a walk through each <see cref="HostView"/>'s dictionaries and workload list: pool trust as a
/// bit mask, asset tags as interned value ids per key, affinity and anti-affinity groups as bit masks.
/// </summary>
/// <remarks>
/// Kept by a <see cref="Scheduler"/> between calls and brought up to date at the start of every placement by reference
/// comparison: a slot whose <see cref="HostView"/> is a different instance is re-read (O(changed hosts)), so a service
/// that replaces a host's view after a report or a placement pays for that host only. This relies on host views, and
/// the dictionaries and lists inside them, not being mutated after they are handed to the scheduler (they are records
/// with init-only properties; the collections should be treated as frozen). Hosts whose dictionaries do not compare
/// keys ordinally, or that use a 65th pool or group name, are marked "slow" and go through the filters on the view.
/// Interned names are never forgotten; a scheduler that sees an unbounded stream of distinct tag values grows.
/// Not thread-safe: the scheduler serialises access.
/// </remarks>
internal sealed class HostIndex
{
    private const int MaxBits = 64;

    private readonly Dictionary<string, int> _poolIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _affinityIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _antiIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _keyIds = new(StringComparer.Ordinal);
    private readonly List<Dictionary<string, int>> _valueIds = [];
    private readonly List<int[]> _tagValues = []; // per key id: value id + 1 per host, 0 = no such tag

    // (key id, value id + 1) -> ascending slots carrying that tag, built on first use, dropped when any slot's tag
    // dictionary instance changes (views made with `with` keep theirs) or the number of slots changes.
    private readonly Dictionary<(int Key, int Value), int[]> _postings = [];

    private HostView?[] _hosts = [];
    private int _count;
    private int _slowCount;
    private long[] _trustedUntil = [];
    private long[] _validUntil = [];
    private long[] _freeVcpus = [];
    private long[] _freeMemory = [];
    private long[] _freeDisk = [];
    private ulong[] _trustedPools = [];
    private ulong[] _affinity = [];
    private ulong[] _anti = [];
    private bool[] _slow = [];
    private byte[] _powerKind = [];
    private double[] _power = [];
    private int[] _capacityVcpus = [];
    private double[] _load = [];
    private double[] _performance = [];

    public int Count => _count;

    /// <summary>Re-reads every slot whose view is not the same instance as last time.</summary>
    public void Sync(ReadOnlySpan<HostView> hosts)
    {
        if (hosts.Length > _hosts.Length)
        {
            Grow(Math.Max(hosts.Length, _hosts.Length * 2));
        }

        var known = _hosts;
        for (var i = 0; i < hosts.Length; i++)
        {
            if (!ReferenceEquals(known[i], hosts[i]))
            {
                Set(i, hosts[i]);
            }
        }

        if (hosts.Length < _count)
        {
            for (var i = hosts.Length; i < _count; i++)
            {
                if (_slow[i])
                {
                    _slow[i] = false;
                    _slowCount--;
                }
            }

            Array.Clear(_hosts, hosts.Length, _count - hosts.Length);
        }

        if (hosts.Length != _count)
        {
            _postings.Clear();
        }

        _count = hosts.Length;
    }

    /// <summary>Per-request lookups: pool bit mask, tag (key, value) ids, group bits.</summary>
    public Query Compile(FilterContext c, ReadOnlySpan<HostView> hosts)
    {
        var q = new Query { Context = c, NowTicks = c.NowUtcTicks, TrustRequired = c.TrustRequired, Request = c.Resources };
        foreach (var p in c.Pools)
        {
            q.PoolsAsked = true;
            if (_poolIds.TryGetValue(p, out var id))
            {
                q.PoolMask |= 1UL << id;
            }
            else
            {
                q.Impossible = true; // no indexed host has ever been trusted for it
            }
        }

        var required = new List<(int[] Values, int Value)>();
        for (var i = 0; i < c.RequiredKeys.Length; i++)
        {
            if (_keyIds.TryGetValue(c.RequiredKeys[i], out var k) && _valueIds[k].TryGetValue(c.RequiredValues[i], out var v))
            {
                required.Add((_tagValues[k], v + 1));
            }
            else
            {
                q.Impossible = true;
            }
        }

        var forbidden = new List<(int[] Values, int Value)>();
        for (var i = 0; i < c.ForbiddenKeys.Length; i++)
        {
            if (_keyIds.TryGetValue(c.ForbiddenKeys[i], out var k) && _valueIds[k].TryGetValue(c.ForbiddenValues[i], out var v))
            {
                forbidden.Add((_tagValues[k], v + 1));
            }
        }

        q.Required = [.. required];
        if (!q.Impossible && _slowCount == 0)
        {
            // Start from the hosts that carry a required tag (the shortest such list) instead of from all hosts.
            for (var i = 0; i < c.RequiredKeys.Length; i++)
            {
                var k = _keyIds[c.RequiredKeys[i]];
                var v = _valueIds[k][c.RequiredValues[i]] + 1;
                var posting = Posting(k, v);
                if (q.Slots is null || posting.Length < q.Slots.Length)
                {
                    q.Slots = posting;
                }
            }
        }
        q.Forbidden = [.. forbidden];
        if (c.AntiAffinityGroup is { } anti && _antiIds.TryGetValue(anti, out var a))
        {
            q.AntiMask = 1UL << a;
        }

        if (c.AffinityGroup is { } group)
        {
            var bit = _affinityIds.TryGetValue(group, out var g) ? 1UL << g : 0;
            var runs = false;
            for (var i = 0; i < _count && !runs; i++)
            {
                runs = i != c.Excluded && (_slow[i] ? AffinityFilter.RunsGroup(hosts[i], group, anti: false) : (_affinity[i] & bit) != 0);
            }

            q.AffinityRequired = runs;
            c.AffinityGroupRunsSomewhere = runs;
            q.AffinityMask = bit;
        }

        return q;
    }

    /// <summary>
    /// The hot loop: writes the slots that pass all five filters (except <paramref name="excluded"/>) into
    /// <paramref name="passing"/> and returns how many. Same answers as <see cref="FilterContext.PassesAll"/> on the views (the tests compare them).
    /// </summary>
    public int Scan(Query q, int excluded, int[] passing)
    {
        var n = _count;
        var slow = _slow;
        var trusted = _trustedUntil;
        var valid = _validUntil;
        var freeVcpus = _freeVcpus;
        var freeMemory = _freeMemory;
        var freeDisk = _freeDisk;
        var pools = _trustedPools;
        var antiGroups = _anti;
        var affinityGroups = _affinity;
        var now = q.NowTicks;
        var trustRequired = q.TrustRequired;
        long vcpus = q.Request.VCpus, memory = q.Request.MemoryMb, disk = q.Request.DiskGb;
        var poolsAsked = q.PoolsAsked;
        var poolMask = q.PoolMask;
        var impossible = q.Impossible;
        var required = q.Required;
        var forbidden = q.Forbidden;
        var antiMask = q.AntiMask;
        var affinityRequired = q.AffinityRequired;
        var affinityMask = q.AffinityMask;
        var count = 0;
        var slots = q.Slots;
        var total = slots?.Length ?? n;
        for (var j = 0; j < total; j++)
        {
            var i = slots is null ? j : slots[j];
            if (slow[i])
            {
                if (i != excluded && q.Context.PassesAll(_hosts[i]!))
                {
                    passing[count++] = i;
                }

                continue;
            }

            // Required tags first: usually the most selective test, and 4 bytes per host, so most hosts are
            // dropped before the wider arrays are read. The order changes no answer (all tests must pass).
            var ok = !impossible;
            for (var t = 0; t < required.Length && ok; t++)
            {
                ok = required[t].Values[i] == required[t].Value;
            }

            if (!ok
                || (trustRequired && now >= trusted[i])
                || vcpus > freeVcpus[i] || memory > freeMemory[i] || disk > freeDisk[i]
                || (poolsAsked && (now >= valid[i] || (pools[i] & poolMask) != poolMask))
                || (antiGroups[i] & antiMask) != 0
                || (affinityRequired && (affinityGroups[i] & affinityMask) == 0)
                || i == excluded)
            {
                continue;
            }

            for (var t = 0; t < forbidden.Length && ok; t++)
            {
                ok = forbidden[t].Values[i] != forbidden[t].Value;
            }

            if (ok)
            {
                passing[count++] = i;
            }
        }

        return count;
    }

    /// <summary>PowerWeigher's raw value from the arrays (bit-identical to <c>PowerWeigher.Raw</c> on the view).</summary>
    public double Power(int i, int requestVcpus, out byte kind)
    {
        kind = _powerKind[i];
        if (kind != PowerWeigher.Watts)
        {
            return _power[i];
        }

        var cap = _capacityVcpus[i];
        var share = cap > 0 ? Math.Min(1.0, (double)requestVcpus / cap) : 1.0;
        return -_power[i] * share;
    }

    public double Load(int i, LoadStrategy strategy) => strategy == LoadStrategy.Pack ? _load[i] : 1.0 - _load[i];

    public double Performance(int i) => _performance[i];

    public double TrustPreference(int i, long nowTicks) => nowTicks < _trustedUntil[i] ? 1.0 : 0.0;

    private void Set(int i, HostView h)
    {
        var previous = _hosts[i];
        var wasSlow = _slow[i];
        _hosts[i] = h;
        var valid = h.ValidTo is { } v ? v.UtcTicks : long.MinValue;
        _validUntil[i] = valid;
        _trustedUntil[i] = h.Trust == HostTrust.Trusted ? valid : long.MinValue;
        _freeVcpus[i] = (long)h.Capacity.VCpus - h.Used.VCpus;
        _freeMemory[i] = h.Capacity.MemoryMb - h.Used.MemoryMb;
        _freeDisk[i] = h.Capacity.DiskGb - h.Used.DiskGb;
        var slow = false;

        ulong pools = 0;
        if (h.Pools is Dictionary<string, HostTrust> poolDict && IsOrdinal(poolDict.Comparer))
        {
            foreach (var (name, trust) in poolDict)
            {
                if (trust == HostTrust.Trusted)
                {
                    slow |= !Bit(_poolIds, name, ref pools);
                }
            }
        }
        else
        {
            slow = true;
        }

        _trustedPools[i] = pools;

        foreach (var values in _tagValues)
        {
            values[i] = 0;
        }

        if (h.Tags is Dictionary<string, string> tagDict && IsOrdinal(tagDict.Comparer))
        {
            foreach (var (key, value) in tagDict)
            {
                if (!_keyIds.TryGetValue(key, out var k))
                {
                    k = _keyIds.Count;
                    _keyIds.Add(key, k);
                    _valueIds.Add(new Dictionary<string, int>(StringComparer.Ordinal));
                    _tagValues.Add(new int[_hosts.Length]);
                }

                var ids = _valueIds[k];
                if (!ids.TryGetValue(value, out var id))
                {
                    id = ids.Count;
                    ids.Add(value, id);
                }

                _tagValues[k][i] = id + 1;
            }
        }
        else
        {
            slow = true;
        }

        ulong affinity = 0, anti = 0;
        foreach (var w in h.Workloads)
        {
            if (w.AffinityGroup is { } g)
            {
                slow |= !Bit(_affinityIds, g, ref affinity);
            }

            if (w.AntiAffinityGroup is { } a)
            {
                slow |= !Bit(_antiIds, a, ref anti);
            }
        }

        _affinity[i] = affinity;
        _anti[i] = anti;
        _slow[i] = slow;
        _slowCount += (slow ? 1 : 0) - (wasSlow ? 1 : 0);
        if (previous is null || !ReferenceEquals(previous.Tags, h.Tags) || wasSlow != slow)
        {
            _postings.Clear();
        }

        _power[i] = h.PowerEfficiency ?? (h.IdleWatts is { } idle && h.PeakWatts is { } peak ? peak - idle : 0);
        _ = PowerWeigher.Raw(h, default, out _powerKind[i]);
        _capacityVcpus[i] = h.Capacity.VCpus;
        _load[i] = h.Load;
        _performance[i] = h.Performance;
    }

    private int[] Posting(int key, int value)
    {
        if (!_postings.TryGetValue((key, value), out var posting))
        {
            var values = _tagValues[key];
            var found = 0;
            for (var i = 0; i < _count; i++)
            {
                found += values[i] == value ? 1 : 0;
            }

            posting = new int[found];
            found = 0;
            for (var i = 0; i < _count; i++)
            {
                if (values[i] == value)
                {
                    posting[found++] = i;
                }
            }

            _postings[(key, value)] = posting;
        }

        return posting;
    }

    private static bool IsOrdinal(IEqualityComparer<string> comparer) =>
        ReferenceEquals(comparer, StringComparer.Ordinal) || ReferenceEquals(comparer, EqualityComparer<string>.Default);

    /// <summary>Sets the name's bit; false when it is the 65th distinct name (the host then goes the slow way).</summary>
    private static bool Bit(Dictionary<string, int> ids, string name, ref ulong mask)
    {
        if (!ids.TryGetValue(name, out var id))
        {
            if (ids.Count >= MaxBits)
            {
                return false;
            }

            id = ids.Count;
            ids.Add(name, id);
        }

        mask |= 1UL << id;
        return true;
    }

    private void Grow(int capacity)
    {
        Array.Resize(ref _hosts, capacity);
        Array.Resize(ref _trustedUntil, capacity);
        Array.Resize(ref _validUntil, capacity);
        Array.Resize(ref _freeVcpus, capacity);
        Array.Resize(ref _freeMemory, capacity);
        Array.Resize(ref _freeDisk, capacity);
        Array.Resize(ref _trustedPools, capacity);
        Array.Resize(ref _affinity, capacity);
        Array.Resize(ref _anti, capacity);
        Array.Resize(ref _slow, capacity);
        Array.Resize(ref _powerKind, capacity);
        Array.Resize(ref _power, capacity);
        Array.Resize(ref _capacityVcpus, capacity);
        Array.Resize(ref _load, capacity);
        Array.Resize(ref _performance, capacity);
        for (var k = 0; k < _tagValues.Count; k++)
        {
            var values = _tagValues[k];
            Array.Resize(ref values, capacity);
            _tagValues[k] = values;
        }
    }

    /// <summary>One request, compiled against the index.</summary>
    internal sealed class Query
    {
        public required FilterContext Context { get; init; }

        public long NowTicks { get; init; }

        public bool TrustRequired { get; init; }

        public Resources Request { get; init; }

        public bool PoolsAsked { get; set; }

        public ulong PoolMask { get; set; }

        /// <summary>A requested pool or required tag value that no indexed host has: only slow hosts can pass.</summary>
        public bool Impossible { get; set; }

        public (int[] Values, int Value)[] Required { get; set; } = [];

        public (int[] Values, int Value)[] Forbidden { get; set; } = [];

        public ulong AntiMask { get; set; }

        public bool AffinityRequired { get; set; }

        public ulong AffinityMask { get; set; }

        /// <summary>When set, only these slots can pass (those carrying a required tag); else every slot is scanned.</summary>
        public int[]? Slots { get; set; }
    }
}
