using System.Buffers.Binary;

namespace TrustPool.Tpm.Wire;

/// <summary>Writer of TPM 2.0 marshalled structures (big-endian). The counterpart of <see cref="TpmReader"/>.</summary>
public sealed class TpmWriter
{
    private byte[] _buffer;
    private int _length;

    public TpmWriter(int capacity = 256)
    {
        _buffer = new byte[Math.Max(16, capacity)];
    }

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => WrittenSpan.ToArray();

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        var s = _buffer.AsSpan(_length, count);
        _length += count;
        return s;
    }

    public TpmWriter WriteByte(byte value)
    {
        Grow(1)[0] = value;
        return this;
    }

    public TpmWriter WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(Grow(2), value);
        return this;
    }

    public TpmWriter WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Grow(4), value);
        return this;
    }

    public TpmWriter WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(Grow(8), value);
        return this;
    }

    public TpmWriter WriteAlgorithm(TpmAlgorithmId alg) => WriteUInt16((ushort)alg);

    public TpmWriter WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Grow(bytes.Length));
        return this;
    }

    /// <summary>Writes a TPM2B: 16-bit size then the bytes.</summary>
    public TpmWriter WriteSized(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"TPM2B payload of {bytes.Length} bytes exceeds 65535.", nameof(bytes));
        }

        WriteUInt16((ushort)bytes.Length);
        return WriteBytes(bytes);
    }

    /// <summary>Writes a TPM2B whose contents are produced by <paramref name="body"/> (size back-patched).</summary>
    public TpmWriter WriteSized(Action<TpmWriter> body)
    {
        var sizeAt = _length;
        WriteUInt16(0);
        body(this);
        var size = _length - sizeAt - 2;
        if (size > ushort.MaxValue)
        {
            throw new InvalidOperationException($"TPM2B contents of {size} bytes exceed 65535.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(sizeAt, 2), (ushort)size);
        return this;
    }

    /// <summary>Overwrites a 32-bit value already written (command/response size fields).</summary>
    public void PatchUInt32(int offset, uint value) => BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(offset, 4), value);
}
