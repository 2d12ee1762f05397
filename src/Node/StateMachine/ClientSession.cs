using KvActors.Protocol.Wire;

namespace KvActors.Node.StateMachine;

/// <summary>
/// What the state machine remembers about one client so that a retried request applies at most once: the
/// last sequence it applied for the client, the reply it gave, and the log index where that happened (which
/// orders sessions for eviction). Linked into <see cref="SessionTable"/>'s age order.
/// </summary>
internal sealed class ClientSession(ClientId id, ulong lastSequence, KvReply lastReply, ulong lastAppliedIndex)
{
    /// <summary>The client.</summary>
    public ClientId Id { get; } = id;

    /// <summary>The sequence of the client's last applied request; at least 1.</summary>
    public ulong LastSequence { get; set; } = lastSequence;

    /// <summary>The reply to that request: the state machine's own copy, never handed out (callers get clones).</summary>
    public KvReply LastReply { get; set; } = lastReply;

    /// <summary>The Raft log index at which that request applied.</summary>
    public ulong LastAppliedIndex { get; set; } = lastAppliedIndex;

    /// <summary>The next older session (smaller <see cref="LastAppliedIndex"/>), or null.</summary>
    public ClientSession? Older { get; set; }

    /// <summary>The next newer session (larger <see cref="LastAppliedIndex"/>), or null.</summary>
    public ClientSession? Newer { get; set; }
}
