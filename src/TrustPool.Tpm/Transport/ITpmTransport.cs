namespace TrustPool.Tpm.Transport;

/// <summary>
/// The single door to a TPM: one marshalled command in, one marshalled response out
/// (TPM 2.0 Part 1, 18: tag, size, code, ...). Implementations frame nothing beyond what the TPM itself
/// sends, bound the response to <see cref="TpmResponseFrame.MaxResponseSize"/> and check its size field.
/// Not thread-safe: a TPM executes one command at a time and callers serialize.
/// </summary>
public interface ITpmTransport : IDisposable
{
    /// <summary>Sends <paramref name="command"/> and returns the complete response, header included.</summary>
    /// <exception cref="Wire.TpmFormatException">The response header is malformed or its size field disagrees with the bytes received.</exception>
    /// <exception cref="IOException">The TPM could not be reached or the connection broke.</exception>
    byte[] Execute(ReadOnlySpan<byte> command);
}
