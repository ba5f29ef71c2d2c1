namespace TrustPool.Tpm.Credentials;

/// <summary>Why a credential could not be activated. Each maps to the TPM 2.0 response a real TPM gives (Part 3, 12.5).</summary>
public enum CredentialFailure
{
    /// <summary>The credential blob or encrypted secret is not well-formed (TPM_RC_SIZE / TPM_RC_INSUFFICIENT).</summary>
    Malformed,

    /// <summary>The encrypted secret does not decrypt under the EK: bad OAEP encoding, wrong label, point not on the curve (TPM_RC_VALUE / TPM_RC_ECC_POINT).</summary>
    SecretRejected,

    /// <summary>The outer HMAC does not match: a credential made for another EK or another object Name, or tampered (TPM_RC_INTEGRITY).</summary>
    IntegrityCheckFailed,
}

/// <summary>
/// ActivateCredential refused a credential. The only exception the activation path throws for bad input;
/// the message never contains key material.
/// </summary>
public sealed class CredentialException : Exception
{
    public CredentialException(CredentialFailure failure, string message)
        : base(message)
    {
        Failure = failure;
    }

    public CredentialException(CredentialFailure failure, string message, Exception innerException)
        : base(message, innerException)
    {
        Failure = failure;
    }

    public CredentialException()
        : this(CredentialFailure.Malformed, "credential rejected")
    {
    }

    public CredentialException(string message)
        : this(CredentialFailure.Malformed, message)
    {
    }

    public CredentialException(string message, Exception innerException)
        : this(CredentialFailure.Malformed, message, innerException)
    {
    }

    public CredentialFailure Failure { get; }
}
