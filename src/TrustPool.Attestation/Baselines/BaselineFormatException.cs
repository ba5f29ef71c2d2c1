namespace TrustPool.Attestation.Baselines;

/// <summary>A baseline document that is not valid; <see cref="Field"/> names the JSON field at fault.</summary>
public sealed class BaselineFormatException : Exception
{
    public BaselineFormatException()
        : this("document", "invalid baseline")
    {
    }

    public BaselineFormatException(string message)
        : this("document", message)
    {
    }

    public BaselineFormatException(string message, Exception innerException)
        : base(message, innerException) => Field = "document";

    public BaselineFormatException(string field, string reason)
        : base($"baseline field '{field}': {reason}") => Field = field;

    public BaselineFormatException(string field, string reason, Exception innerException)
        : base($"baseline field '{field}': {reason}", innerException) => Field = field;

    public string Field { get; }
}
