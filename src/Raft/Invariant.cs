using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace KvActors.Raft;

/// <summary>
/// A Raft core whose state is corrupt must stop before it persists or sends anything more: these checks throw
/// <see cref="RaftInvariantException"/> and stay on in Release builds.
/// </summary>
public static class Invariant
{
    /// <summary>Throws when <paramref name="condition"/> is false; the message is the condition's source text.</summary>
    public static void Check([DoesNotReturnIf(false)] bool condition,
        [CallerArgumentExpression(nameof(condition))] string expression = "")
    {
        if (!condition) Fail(expression);
    }

    /// <summary>Throws with <paramref name="message"/>.</summary>
    [DoesNotReturn]
    public static void Fail(string message) => throw new RaftInvariantException(message);

    /// <summary>Throws with <paramref name="message"/>; typed so that it can stand where a value is expected.</summary>
    [DoesNotReturn]
    public static T Fail<T>(string message) => throw new RaftInvariantException(message);

    /// <summary>An O(n) check, run only in Debug builds (and so in simulation).</summary>
    [Conditional("DEBUG")]
    public static void Expensive(Func<bool> condition,
        [CallerArgumentExpression(nameof(condition))] string expression = "")
    {
        if (!condition()) Fail(expression);
    }
}

/// <summary>A Raft invariant failed: this replica's state can no longer be trusted.</summary>
public sealed class RaftInvariantException(string message) : Exception("Raft invariant failed: " + message);
