using KvActors.Protocol;

namespace KvActors.Node.StateMachine;

/// <summary>
/// How a shard's <see cref="KvStateMachine"/> is bounded. Every replica of a shard must use the same settings:
/// they decide which commands are refused and which sessions are evicted, and replicas that decide differently
/// diverge.
/// </summary>
public sealed record StateMachineSettings
{
    /// <summary>The defaults: 10,000 sessions and <see cref="KvLimits.Default"/>.</summary>
    public static StateMachineSettings Default { get; } = new();

    /// <summary>The most client sessions kept per shard; at least 1. Past it, opening a session evicts the least
    /// recently active one (see <see cref="KvStateMachine"/>). Each session holds its last reply, so the memory it
    /// bounds is about <c>MaxSessions</c> × the typical reply size. Default 10,000.</summary>
    public int MaxSessions { get; init; } = 10_000;

    /// <summary>The limits on keys, values, Txn sizes and Range replies. Default <see cref="KvLimits.Default"/>.</summary>
    public KvLimits Limits { get; init; } = KvLimits.Default;

    /// <summary>Throws if a setting is out of range, naming it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void ThrowIfInvalid()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSessions, 1, nameof(MaxSessions));
        ArgumentNullException.ThrowIfNull(Limits, nameof(Limits));
        ArgumentOutOfRangeException.ThrowIfLessThan(Limits.MaxKeyBytes, 1, nameof(KvLimits.MaxKeyBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(Limits.MaxValueBytes, nameof(KvLimits.MaxValueBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(Limits.MaxTxnOps, nameof(KvLimits.MaxTxnOps));
        ArgumentOutOfRangeException.ThrowIfLessThan(Limits.MaxRangeLimit, 1, nameof(KvLimits.MaxRangeLimit));
        ArgumentOutOfRangeException.ThrowIfLessThan(Limits.MaxRangeReplyBytes, 1, nameof(KvLimits.MaxRangeReplyBytes));
    }
}
