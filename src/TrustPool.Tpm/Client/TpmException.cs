namespace TrustPool.Tpm.Client;

/// <summary>
/// The TPM refused a command: carries the raw response code, its decoded parts and the command.
/// Malformed response bytes are a <see cref="Wire.TpmFormatException"/> instead.
/// </summary>
public sealed class TpmException : Exception
{
    public TpmException(TpmCommandCode command, TpmResponseCode responseCode)
        : base($"TPM2_{command} failed: {responseCode}")
    {
        Command = command;
        ResponseCode = responseCode;
    }

    public TpmException()
        : this("TPM command failed")
    {
    }

    public TpmException(string message)
        : base(message)
    {
    }

    public TpmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TpmCommandCode Command { get; }

    public TpmResponseCode ResponseCode { get; }

    /// <summary>The raw TPM_RC.</summary>
    public uint Code => ResponseCode.Value;
}
