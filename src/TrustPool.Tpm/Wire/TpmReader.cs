using System.Buffers.Binary;

namespace TrustPool.Tpm.Wire;

/// <summary>
/// Forward-only reader of TPM 2.0 marshalled structures (big-endian, TPM 2.0 Part 2, 5 and 10).
/// Every length is checked against the bytes remaining before it is used; nothing is allocated from an
/// unchecked length. Failures throw <see cref="TpmFormatException"/> with the field and absolute offset.
/// </summary>
public ref struct TpmReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _position;

    public TpmReader(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        _data = data;
        _baseOffset = baseOffset;
        _position = 0;
    }

    /// <summary>Absolute offset of the next byte to read.</summary>
    public readonly int Offset => _baseOffset + _position;

    public readonly int Remaining => _data.Length - _position;

    public readonly bool IsEmpty => _position >= _data.Length;

    /// <summary>The bytes consumed so far (for hashing a structure exactly as received).</summary>
    public readonly ReadOnlySpan<byte> Consumed => _data[.._position];

    private void Need(int count, string field)
    {
        if (count < 0 || count > _data.Length - _position)
        {
            throw new TpmFormatException(field, Offset, $"needs {count} bytes, {Remaining} remain");
        }
    }

    public byte ReadByte(string field)
    {
        Need(1, field);
        return _data[_position++];
    }

    public ushort ReadUInt16(string field)
    {
        Need(2, field);
        var v = BinaryPrimitives.ReadUInt16BigEndian(_data[_position..]);
        _position += 2;
        return v;
    }

    public uint ReadUInt32(string field)
    {
        Need(4, field);
        var v = BinaryPrimitives.ReadUInt32BigEndian(_data[_position..]);
        _position += 4;
        return v;
    }

    public ulong ReadUInt64(string field)
    {
        Need(8, field);
        var v = BinaryPrimitives.ReadUInt64BigEndian(_data[_position..]);
        _position += 8;
        return v;
    }

    public TpmAlgorithmId ReadAlgorithm(string field) => (TpmAlgorithmId)ReadUInt16(field);

    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        Need(count, field);
        var s = _data.Slice(_position, count);
        _position += count;
        return s;
    }

    /// <summary>Reads a TPM2B: a 16-bit size then that many bytes, at most <paramref name="maxSize"/>.</summary>
    public ReadOnlySpan<byte> ReadSizedBytes(string field, int maxSize)
    {
        var start = Offset;
        var size = ReadUInt16(field + ".size");
        if (size > maxSize)
        {
            throw new TpmFormatException(field, start, $"size {size} exceeds the maximum {maxSize}");
        }

        return ReadBytes(size, field);
    }

    /// <summary>Reads a TPM2B and returns a reader over its contents (for TPM2B_PUBLIC, TPM2B_ATTEST, ...).</summary>
    public TpmReader ReadSized(string field, int maxSize)
    {
        var start = Offset + 2;
        var bytes = ReadSizedBytes(field, maxSize);
        return new TpmReader(bytes, start);
    }

    /// <summary>Rejects bytes left over after a complete structure.</summary>
    public readonly void ThrowIfNotEmpty(string structure)
    {
        if (!IsEmpty)
        {
            throw new TpmFormatException(structure, Offset, $"{Remaining} trailing bytes after the structure");
        }
    }

    public readonly TpmFormatException Error(string field, string problem) => new(field, Offset, problem);
}
