namespace TrustPool.Audit.Compliance;

/// <summary>What a compliance report is about: one workload, or one host over an interval.</summary>
public sealed record ComplianceQuery(string? Workload, string? Host, DateTimeOffset? From, DateTimeOffset? To)
{
    /// <summary>Checks the combination; <see cref="ComplianceQueryException"/> names the field.</summary>
    public void Validate()
    {
        if ((Workload is null) == (Host is null))
        {
            throw new ComplianceQueryException("workload", "give either workload, or host with from and to");
        }

        if (Workload is { Length: 0 or > 253 })
        {
            throw new ComplianceQueryException("workload", "must be 1..253 characters");
        }

        if (Host is not null)
        {
            if (Host.Length is 0 or > 253)
            {
                throw new ComplianceQueryException("host", "must be 1..253 characters");
            }

            if (From is not { } from || To is not { } to)
            {
                throw new ComplianceQueryException(From is null ? "from" : "to", "is required with host (ISO 8601 time)");
            }

            if (to <= from)
            {
                throw new ComplianceQueryException("to", "must be after from");
            }
        }
    }
}

/// <summary>A <see cref="ComplianceQuery"/> that asks for an impossible combination: which field, and why.</summary>
public sealed class ComplianceQueryException : Exception
{
    /// <summary>Creates the exception for <paramref name="field"/>.</summary>
    public ComplianceQueryException(string field, string reason)
        : base($"{field}: {reason}")
    {
        Field = field;
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public ComplianceQueryException()
    {
        Field = "";
        Reason = "";
    }

    /// <summary>Creates the exception.</summary>
    public ComplianceQueryException(string message)
        : base(message)
    {
        Field = "";
        Reason = message;
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ComplianceQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = "";
        Reason = message;
    }

    /// <summary>The query field at fault (<c>workload</c>, <c>host</c>, <c>from</c>, <c>to</c>).</summary>
    public string Field { get; }

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; }
}
