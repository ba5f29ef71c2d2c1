using System.Buffers.Binary;
using System.Text;
using TrustPool.Tpm.Files;

namespace TrustPool.Server.Siem;

/// <summary>A queued line and its sequence number.</summary>
public readonly record struct QueuedLine(long Sequence, string Line);

/// <summary>
/// A bounded, append-only on-disk queue of SIEM lines: survives a receiver outage and a service restart, hands lines
/// out in order, forgets them only when acknowledged. Records are <c>u32 length | u64 sequence | UTF-8 line</c> in
/// <c>queue.data</c>; the last acknowledged sequence is in <c>queue.ack</c> (replaced atomically). A torn record at the
/// end (crash mid-write) is cut off at open. Appends are flushed to the OS at once and fsynced by
/// <see cref="Sync"/> (the forwarder calls it at least every second). When <see cref="MaxBytes"/> of unacknowledged
/// lines are waiting, new lines are refused and counted in <see cref="Dropped"/>: the audit log in the database
/// still has every record, the SIEM copy is what is bounded. The lines hold no secrets (host names, trust states,
/// report ids, audit actions) but are the service's own state: both files are 0600, created so and replaced by
/// <see cref="AtomicFile"/> (ack without fsync, compaction with).
/// </summary>
public sealed class DiskQueue : IDisposable
{
    public const long DefaultMaxBytes = 256L << 20;
    private const int HeaderSize = 12;
    private const int MaxLineBytes = 1 << 20;

    private readonly object _gate = new();
    private readonly string _dataPath;
    private readonly string _ackPath;
    private readonly List<(long Sequence, long Offset, int Length)> _pending = [];
    private FileStream _data;
    private long _acked;
    private long _last;
    private long _pendingBytes;

    public DiskQueue(string directory, long maxBytes = DefaultMaxBytes)
    {
        Directory.CreateDirectory(directory);
        MaxBytes = maxBytes;
        _dataPath = Path.Combine(directory, "queue.data");
        _ackPath = Path.Combine(directory, "queue.ack");
        _acked = File.Exists(_ackPath) && new FileInfo(_ackPath).Length == 8 ? BinaryPrimitives.ReadInt64BigEndian(File.ReadAllBytes(_ackPath)) : 0;
        _last = _acked;
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = AtomicFile.OwnerOnly;
        }

        _data = new FileStream(_dataPath, options);
        Load();
    }

    public long MaxBytes { get; }

    public long Dropped { get; private set; }

    public long LastSequence
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Raised after every append (the forwarder wakes up).</summary>
    public event Action? Appended;

    /// <summary>Assigns the next sequence number, formats the line with it, appends. Null when the queue is full.</summary>
    public long? Append(Func<long, string> format)
    {
        ArgumentNullException.ThrowIfNull(format);
        lock (_gate)
        {
            var seq = _last + 1;
            var bytes = Encoding.UTF8.GetBytes(format(seq));
            if (bytes.Length > MaxLineBytes)
            {
                bytes = bytes[..MaxLineBytes];
            }

            if (_pendingBytes + bytes.Length + HeaderSize > MaxBytes)
            {
                Dropped++;
                return null;
            }

            var header = new byte[HeaderSize];
            BinaryPrimitives.WriteInt32BigEndian(header, bytes.Length);
            BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(4), seq);
            var offset = _data.Seek(0, SeekOrigin.End);
            _data.Write(header);
            _data.Write(bytes);
            _data.Flush(flushToDisk: false);
            _pending.Add((seq, offset + HeaderSize, bytes.Length));
            _pendingBytes += bytes.Length + HeaderSize;
            _last = seq;
        }

        Appended?.Invoke();
        return _last;
    }

    /// <summary>Up to <paramref name="max"/> unacknowledged lines, oldest first.</summary>
    public IReadOnlyList<QueuedLine> Peek(int max)
    {
        lock (_gate)
        {
            var list = new List<QueuedLine>(Math.Min(max, _pending.Count));
            foreach (var (seq, offset, length) in _pending.Take(max))
            {
                var buffer = new byte[length];
                _data.Seek(offset, SeekOrigin.Begin);
                _data.ReadExactly(buffer);
                list.Add(new QueuedLine(seq, Encoding.UTF8.GetString(buffer)));
            }

            _data.Seek(0, SeekOrigin.End);
            return list;
        }
    }

    /// <summary>Everything up to and including <paramref name="sequence"/> was delivered.</summary>
    public void Ack(long sequence)
    {
        lock (_gate)
        {
            var n = 0;
            while (n < _pending.Count && _pending[n].Sequence <= sequence)
            {
                _pendingBytes -= _pending[n].Length + HeaderSize;
                n++;
            }

            _pending.RemoveRange(0, n);
            _acked = Math.Max(_acked, sequence);
            var ack = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(ack, _acked);
            // No fsync (hot path, as before): a lost ack after power loss only re-sends lines the receiver may have.
            AtomicFile.Write(_ackPath, ack, AtomicFile.OwnerOnly, flushToDisk: false);
            if (_pending.Count == 0 && _data.Length > (1 << 20))
            {
                // Everything delivered: start the data file afresh instead of growing it forever.
                _data.SetLength(0);
            }
            else if (_pending.Count > 0 && _pending[0].Offset > (16 << 20))
            {
                Compact();
            }
        }
    }

    public void Sync()
    {
        lock (_gate)
        {
            _data.Flush(flushToDisk: true);
        }
    }

    private void Load()
    {
        var length = _data.Length;
        var header = new byte[HeaderSize];
        long pos = 0;
        while (pos + HeaderSize <= length)
        {
            _data.Seek(pos, SeekOrigin.Begin);
            _data.ReadExactly(header);
            var len = BinaryPrimitives.ReadInt32BigEndian(header);
            var seq = BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(4));
            if (len < 0 || len > MaxLineBytes || pos + HeaderSize + len > length || seq <= 0)
            {
                break;
            }

            if (seq > _acked)
            {
                _pending.Add((seq, pos + HeaderSize, len));
                _pendingBytes += len + HeaderSize;
            }

            _last = Math.Max(_last, seq);
            pos += HeaderSize + len;
        }

        if (pos < length)
        {
            _data.SetLength(pos); // a torn last record from a crash mid-write
        }

        _data.Seek(0, SeekOrigin.End);
    }

    private void Compact()
    {
        var moved = new List<(long, long, int)>(_pending.Count);
        AtomicFile.Write(_dataPath, output =>
        {
            var header = new byte[HeaderSize];
            foreach (var (seq, offset, len) in _pending)
            {
                var buffer = new byte[len];
                _data.Seek(offset, SeekOrigin.Begin);
                _data.ReadExactly(buffer);
                BinaryPrimitives.WriteInt32BigEndian(header, len);
                BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(4), seq);
                moved.Add((seq, output.Position + HeaderSize, len));
                output.Write(header);
                output.Write(buffer);
            }

            // Closed before the rename, as before (Windows cannot rename over an open file); AtomicFile fsyncs next.
            _data.Dispose();
        }, AtomicFile.OwnerOnly, flushToDisk: true);
        _data = new FileStream(_dataPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        _data.Seek(0, SeekOrigin.End);
        _pending.Clear();
        _pending.AddRange(moved);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _data.Flush(flushToDisk: true);
            _data.Dispose();
        }
    }
}
