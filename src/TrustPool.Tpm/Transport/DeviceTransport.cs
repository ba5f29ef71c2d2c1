namespace TrustPool.Tpm.Transport;

/// <summary>
/// A TPM character device: <c>/dev/tpmrm0</c> (kernel resource manager, preferred: transient objects and
/// sessions are per file handle and flushed on close) or <c>/dev/tpm0</c> (raw; one user at a time).
/// The kernel takes one whole command per write() and returns one whole response per read().
/// </summary>
public sealed class DeviceTransport : ITpmTransport
{
    public const string ResourceManagerPath = "/dev/tpmrm0";
    public const string RawPath = "/dev/tpm0";

    private readonly FileStream _stream;
    private readonly byte[] _buffer = new byte[TpmResponseFrame.MaxResponseSize];
    private bool _disposed;

    public DeviceTransport(string path = ResourceManagerPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        // bufferSize 0: no FileStream buffering, so each Write/Read is exactly one write()/read() on the device.
        _stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
    }

    public string Path { get; }

    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (command.Length < TpmResponseFrame.HeaderSize)
        {
            throw new ArgumentException("a TPM command has at least a 10-byte header", nameof(command));
        }

        _stream.Write(command);
        // The TPM driver returns the complete response in one read(); a read larger than the response is fine,
        // a response larger than the buffer would be truncated and is caught by the size check.
        var n = _stream.Read(_buffer, 0, _buffer.Length);
        var response = _buffer.AsSpan(0, n);
        TpmResponseFrame.CheckComplete(response);
        return response.ToArray();
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _stream.Dispose();
        }
    }

    public override string ToString() => $"device:{Path}";
}
