namespace TrustPool.Server.Storage;

/// <summary>A storage failure the caller can report: schema too new, database unreachable, ...</summary>
public class StoreException : Exception
{
    public StoreException()
    {
    }

    public StoreException(string message)
        : base(message)
    {
    }

    public StoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A unique key already exists (host name, token hash, report id, nonce, ...).</summary>
public sealed class StoreConflictException : StoreException
{
    public StoreConflictException()
    {
    }

    public StoreConflictException(string message)
        : base(message)
    {
    }

    public StoreConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The record to update does not exist.</summary>
public sealed class StoreNotFoundException : StoreException
{
    public StoreNotFoundException()
    {
    }

    public StoreNotFoundException(string message)
        : base(message)
    {
    }

    public StoreNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
