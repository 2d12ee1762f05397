using KvActors.Raft.Ids;

namespace KvActors.Raft;

/// <summary>Whether a proposal or read was taken.</summary>
public enum RequestStatus : byte
{
    /// <summary>Taken: a proposal is in the log (not yet committed); a read waits for its <see cref="ReadState"/>.</summary>
    Accepted = 0,

    /// <summary>This replica does not lead; <c>LeaderHint</c> names the leader it knows of, if any.</summary>
    NotLeader = 1,
}

/// <summary>
/// The answer to <see cref="RaftNode.Propose"/>. When accepted, <see cref="Entry"/> names the entry that holds the
/// command: it is committed only if an entry with this very id comes out in <see cref="Ready.CommittedEntries"/>.
/// </summary>
public readonly record struct ProposeResult(RequestStatus Status, EntryId Entry, ReplicaId LeaderHint)
{
    /// <summary>True when the command was appended to the leader's log.</summary>
    public bool IsAccepted => Status == RequestStatus.Accepted;
}

/// <summary>The answer to <see cref="RaftNode.ReadIndex"/>.</summary>
public readonly record struct ReadIndexResult(RequestStatus Status, ReplicaId LeaderHint)
{
    /// <summary>True when the read waits for its <see cref="ReadState"/>.</summary>
    public bool IsAccepted => Status == RequestStatus.Accepted;
}

/// <summary>
/// A ReadIndex request that became safe: once the state machine has applied <see cref="Index"/>, a read of it
/// reflects every write committed before the request arrived (dissertation §6.4).
/// </summary>
public readonly record struct ReadState(ReadContext Context, LogIndex Index);

/// <summary>What the shell can show about a replica at a glance.</summary>
public readonly record struct RaftStatus(ReplicaId Id, Role Role, Term Term, ReplicaId Vote, ReplicaId Leader,
    LogIndex Commit, LogIndex Applied, EntryId LastLog);
