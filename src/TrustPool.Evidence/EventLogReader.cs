using System.Buffers.Binary;

namespace TrustPool.Evidence;

/// <summary>
/// Forward-only little-endian reader over a span (TCG event logs and IMA binary lists are
/// little-endian, TCG PC Client PFP 1.05, 10.2). Every read checks the length against the bytes
/// remaining before it slices, so a hostile count or size can never cause a large allocation or a
/// long loop; failures throw <see cref="EventLogFormatException"/> naming the field and offset.
/// </summary>
public ref struct EventLogReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly long _baseOffset;
    private int _position;

    public EventLogReader(ReadOnlySpan<byte> buffer, long baseOffset = 0)
    {
        _buffer = buffer;
        _baseOffset = baseOffset;
        _position = 0;
    }

    /// <summary>Absolute offset of the next byte (relative to the start of the whole log).</summary>
    public readonly long Offset => _baseOffset + _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool IsEmpty => _position >= _buffer.Length;

    /// <summary>The bytes not read yet (no copy).</summary>
    public readonly ReadOnlySpan<byte> RemainingSpan => _buffer[_position..];

    public readonly void Require(long count, string field)
    {
        if (count < 0 || count > Remaining)
        {
            throw new EventLogFormatException(field, Offset, $"needs {count} bytes but only {Remaining} remain");
        }
    }

    public byte ReadByte(string field)
    {
        Require(1, field);
        return _buffer[_position++];
    }

    public ushort ReadUInt16(string field)
    {
        Require(2, field);
        var v = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[_position..]);
        _position += 2;
        return v;
    }

    public uint ReadUInt32(string field)
    {
        Require(4, field);
        var v = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_position..]);
        _position += 4;
        return v;
    }

    public ulong ReadUInt64(string field)
    {
        Require(8, field);
        var v = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_position..]);
        _position += 8;
        return v;
    }

    /// <summary>Reads a UINTN of the given width (4 or 8 bytes).</summary>
    public ulong ReadUIntN(int size, string field) => size == 4 ? ReadUInt32(field) : ReadUInt64(field);

    /// <summary>EFI_GUID: little-endian Data1..Data3, then 8 bytes; the same layout .NET's Guid(ReadOnlySpan) expects.</summary>
    public Guid ReadGuid(string field) => new(ReadBytes(16, field));

    public ReadOnlySpan<byte> ReadBytes(long count, string field)
    {
        Require(count, field);
        var s = _buffer.Slice(_position, (int)count);
        _position += (int)count;
        return s;
    }

    /// <summary>A child reader over the next <paramref name="count"/> bytes, keeping absolute offsets.</summary>
    public EventLogReader ReadSlice(long count, string field)
    {
        var start = Offset;
        return new EventLogReader(ReadBytes(count, field), start);
    }

    public void Skip(long count, string field) => ReadBytes(count, field);

    public readonly void ThrowIfNotEmpty(string field)
    {
        if (!IsEmpty)
        {
            throw new EventLogFormatException(field, Offset, $"{Remaining} unexpected trailing bytes");
        }
    }
}
