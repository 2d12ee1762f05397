using KvActors.Protocol.Wire;

namespace KvActors.Client;

/// <summary>
/// A request did not do what it asked, for a reason other than an expected outcome (an absent key or a failed
/// compare are values, not exceptions). <see cref="Error"/> says what to do: <see cref="ErrorCode.InvalidArgument"/>
/// and <see cref="ErrorCode.TooLarge"/> changed nothing and will fail again; <see cref="ErrorCode.Unavailable"/>
/// changed nothing and may be retried; <see cref="ErrorCode.Timeout"/> means a write may or may not have applied.
/// </summary>
public sealed class KvException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="error">Why the request failed.</param>
    /// <param name="message">One line, e.g. <c>"key is 5000 bytes; the limit is 4096"</c>.</param>
    public KvException(ErrorCode error, string message) : base(message) => Error = error;

    /// <summary>Creates the exception with the exception that caused it.</summary>
    public KvException(ErrorCode error, string message, Exception inner) : base(message, inner) => Error = error;

    /// <summary>Why the request failed.</summary>
    public ErrorCode Error { get; }
}
