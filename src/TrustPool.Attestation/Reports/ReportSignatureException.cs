namespace TrustPool.Attestation.Reports;

/// <summary>A JWS that is malformed, uses another algorithm than ES256, or whose signature does not verify.</summary>
public sealed class ReportSignatureException : Exception
{
    public ReportSignatureException()
        : base("invalid report signature")
    {
    }

    public ReportSignatureException(string message)
        : base(message)
    {
    }

    public ReportSignatureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
