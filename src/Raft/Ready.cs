using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Raft;

/// <summary>
/// Work the core asks of its shell, taken with <see cref="RaftNode.Ready"/>. The shell must do it in this order:
/// <list type="number">
/// <item><description>Write <see cref="Snapshot"/> (when not null: it replaces the whole log), then
/// <see cref="HardState"/> (when not null) and <see cref="Entries"/> durably, in one atomic write. An entry at index
/// i replaces every stored entry at i or after.</description></item>
/// <item><description>Only then send <see cref="Messages"/>: they may promise what step 1 wrote (a vote, an
/// acknowledged append). Sending them earlier breaks Raft: a replica could vote twice in a term after a crash, or a
/// leader could count an entry as stored on a replica that lost it. <see cref="MessagesBeforeWrite"/> promise nothing
/// and may be sent before step 1, or with it.</description></item>
/// <item><description>Restore the state machine from <see cref="Snapshot"/> if there is one, then apply
/// <see cref="CommittedEntries"/> in order; serve each <see cref="ReadStates"/> read once
/// the state machine has applied its index; fail each of <see cref="AbortedReads"/> (leadership was lost; the
/// client may retry elsewhere).</description></item>
/// <item><description>Call <see cref="RaftNode.Advance"/> with this Ready.</description></item>
/// </list>
/// At most one Ready is outstanding: <see cref="RaftNode.Ready"/> may not be called again before
/// <see cref="RaftNode.Advance"/>. Between the two, <see cref="RaftNode.Tick"/>, <see cref="RaftNode.Step"/>,
/// <see cref="RaftNode.Propose"/> and <see cref="RaftNode.ReadIndex"/> may still be called; their work waits for the
/// next Ready.
/// </summary>
public sealed class Ready
{
    internal Ready(Snapshot? snapshot, HardState? hardState, Entry[] entries, RaftMessage[] messagesBeforeWrite, RaftMessage[] messages,
        Entry[] committedEntries, ReadState[] readStates, ReadContext[] abortedReads)
    {
        Snapshot = snapshot;
        HardState = hardState;
        Entries = entries;
        MessagesBeforeWrite = messagesBeforeWrite;
        Messages = messages;
        CommittedEntries = committedEntries;
        ReadStates = readStates;
        AbortedReads = abortedReads;
    }

    /// <summary>A snapshot from the leader to write and restore, replacing the log up to its last index; usually null.</summary>
    public Snapshot? Snapshot { get; }

    /// <summary>The new hard state to write, or null when it has not changed since the last Ready.</summary>
    public HardState? HardState { get; }

    /// <summary>Consecutive entries to write, replacing any stored entry at or after the first one's index.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>
    /// A leader's appends, heartbeats and snapshot chunks, which the shell may send before (or while) it writes this
    /// Ready, so that followers write the new entries while the leader does (Raft dissertation §10.2.1). They promise
    /// nothing that is being written: the leader counts itself toward a commit only for entries it has written (its own
    /// match index moves in <see cref="RaftNode.Advance"/>), and this Ready changes neither its term nor its vote. Empty
    /// unless this replica leads and its term and vote are already durable.
    /// </summary>
    public IReadOnlyList<RaftMessage> MessagesBeforeWrite { get; }

    /// <summary>Messages to send once <see cref="HardState"/> and <see cref="Entries"/> are durable.</summary>
    public IReadOnlyList<RaftMessage> Messages { get; }

    /// <summary>Committed entries to apply, in index order, continuing right after the last applied one.</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; }

    /// <summary>ReadIndex requests that became safe, in the order they were confirmed.</summary>
    public IReadOnlyList<ReadState> ReadStates { get; }

    /// <summary>ReadIndex requests that can no longer be answered here because this replica stopped leading.</summary>
    public IReadOnlyList<ReadContext> AbortedReads { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"Ready({(Snapshot is null ? "" : Snapshot + ", ")}hs={HardState?.ToString() ?? "-"}, entries={Entries.Count}, early={MessagesBeforeWrite.Count}, msgs={Messages.Count}, " +
        $"committed={CommittedEntries.Count}, reads={ReadStates.Count}, aborted={AbortedReads.Count})";
}
