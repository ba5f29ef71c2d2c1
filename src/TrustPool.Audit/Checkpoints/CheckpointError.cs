namespace TrustPool.Audit.Checkpoints;

/// <summary>Why a signed checkpoint was not accepted.</summary>
public abstract record CheckpointError
{
    private protected CheckpointError()
    {
    }

    /// <summary>One line for logs and problem details.</summary>
    public abstract string Message { get; }

    /// <inheritdoc/>
    public override string ToString() => Message;
}

/// <summary>The note or its checkpoint text is not in the canonical form.</summary>
public sealed record MalformedCheckpoint(string Reason) : CheckpointError
{
    /// <inheritdoc/>
    public override string Message => $"malformed checkpoint: {Reason}";
}

/// <summary>No signature line from the expected key (name and key ID) is present.</summary>
public sealed record CheckpointSignatureMissing(string KeyName, uint KeyId) : CheckpointError
{
    /// <inheritdoc/>
    public override string Message => $"no signature by {KeyName} ({KeyId:x8})";
}

/// <summary>A signature line from the expected key does not verify over the note text.</summary>
public sealed record CheckpointSignatureInvalid(string KeyName, uint KeyId) : CheckpointError
{
    /// <inheritdoc/>
    public override string Message => $"signature by {KeyName} ({KeyId:x8}) does not verify";
}

/// <summary>The checkpoint is for another log.</summary>
public sealed record OriginMismatch(string Expected, string Actual) : CheckpointError
{
    /// <inheritdoc/>
    public override string Message => $"origin mismatch: expected '{Expected}', got '{Actual}'";
}

/// <summary>A signed checkpoint was rejected; <see cref="Error"/> carries the typed reason.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception for <paramref name="error"/>.</summary>
    public CheckpointException(CheckpointError error)
        : base(error?.Message)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    /// <summary>Why the checkpoint was rejected.</summary>
    public CheckpointError Error { get; }
}
