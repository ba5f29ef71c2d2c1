namespace TrustPool.Audit.Merkle;

/// <summary>Why a Merkle proof did not verify (TM <c>RootMismatchError</c> and the precondition errors of <c>proof/verify.go</c>).</summary>
public abstract record MerkleProofError
{
    private protected MerkleProofError()
    {
    }

    /// <summary>One line for logs and problem details.</summary>
    public abstract string Message { get; }

    /// <inheritdoc/>
    public override string ToString() => Message;
}

/// <summary>
/// The proof was well-formed but the root it leads to is not the one claimed. <see cref="Root"/> names which root
/// when there are two (consistency: <c>root1</c> or <c>root2</c>).
/// </summary>
public sealed record RootMismatch(byte[] Expected, byte[] Calculated) : MerkleProofError
{
    /// <summary><c>root</c> (inclusion), <c>root1</c> or <c>root2</c> (consistency).</summary>
    public string Root { get; init; } = "root";

    /// <inheritdoc/>
    public override string Message =>
        $"{Root} mismatch: expected {Convert.ToHexStringLower(Expected)}, calculated {Convert.ToHexStringLower(Calculated)}";
}

/// <summary>The proof cannot be checked at all: its shape or its parameters are wrong.</summary>
public sealed record InvalidProof(InvalidProofReason Reason, string Detail) : MerkleProofError
{
    /// <inheritdoc/>
    public override string Message => $"invalid proof ({Reason}): {Detail}";
}

/// <summary>The kinds of <see cref="InvalidProof"/>.</summary>
public enum InvalidProofReason
{
    /// <summary>Inclusion: the leaf index is not below the tree size.</summary>
    IndexOutOfRange,

    /// <summary>The proof has more or fewer hashes than the (index, size) or (size1, size2) pair requires.</summary>
    WrongProofLength,

    /// <summary>A leaf hash, root or proof element is not 32 bytes (SHA-256).</summary>
    InvalidHashLength,

    /// <summary>Consistency: size1 is 0. A proof from the empty tree proves nothing (transparency-dev/merkle #236).</summary>
    Size1Zero,

    /// <summary>Consistency: size1 is greater than size2.</summary>
    Size1GreaterThanSize2,
}

/// <summary>A Merkle proof failed verification; <see cref="Error"/> carries the typed reason.</summary>
public sealed class MerkleProofException : Exception
{
    /// <summary>Creates the exception for <paramref name="error"/>.</summary>
    public MerkleProofException(MerkleProofError error)
        : base(error?.Message)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    /// <summary>Why the proof failed.</summary>
    public MerkleProofError Error { get; }
}
