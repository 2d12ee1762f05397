using KvActors.Protocol.Wire;

namespace KvActors.Protocol;

/// <summary>
/// The verdict on one request: <see cref="ErrorCode.Ok"/> with no message, or why it is refused
/// (<see cref="ErrorCode.InvalidArgument"/> or <see cref="ErrorCode.TooLarge"/>) in one human-readable line
/// that names the limit, e.g. <c>"key is 5000 bytes; the limit is 4096"</c>.
/// </summary>
/// <param name="Error">Why the request is refused; <see cref="ErrorCode.Ok"/> when it is acceptable.</param>
/// <param name="Message">Empty when <paramref name="Error"/> is <see cref="ErrorCode.Ok"/>; else one line.</param>
public readonly record struct ValidationResult(ErrorCode Error, string Message)
{
    /// <summary>The request is acceptable.</summary>
    public static ValidationResult Ok { get; } = new(ErrorCode.Ok, "");

    /// <summary>True when the request is acceptable.</summary>
    public bool IsOk => Error == ErrorCode.Ok;

    /// <summary>The request is malformed or out of range.</summary>
    /// <param name="message">One line saying what is wrong.</param>
    public static ValidationResult Invalid(string message) => new(ErrorCode.InvalidArgument, message);

    /// <summary>A key, value or count in the request is over its limit.</summary>
    /// <param name="message">One line naming the size and the limit.</param>
    public static ValidationResult TooLarge(string message) => new(ErrorCode.TooLarge, message);
}
