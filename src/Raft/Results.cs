using KvActors.Raft.Ids;

namespace KvActors.Raft;

/// <summary>Whether a proposal, read, membership change or leader transfer was taken.</summary>
public enum RequestStatus : byte
{
    /// <summary>Taken: a proposal is in the log (not yet committed); a read waits for its <see cref="ReadState"/>.</summary>
    Accepted = 0,

    /// <summary>This replica does not lead; <c>LeaderHint</c> names the leader it knows of, if any.</summary>
    NotLeader = 1,

    /// <summary>The leader's uncommitted log is at <see cref="RaftConfig.MaxUncommittedBytes"/>; retry after a backoff.</summary>
    TooBusy = 2,

    /// <summary>Leadership is being handed to another replica; retry there shortly.</summary>
    Transferring = 3,

    /// <summary>Another membership change has not finished (uncommitted, or still joint).</summary>
    ChangeInProgress = 4,

    /// <summary>The change makes no sense for this membership (unknown replica, already a member, wrong role, self).</summary>
    InvalidChange = 5,

    /// <summary>The change would leave no voter.</summary>
    WouldRemoveLastVoter = 6,

    /// <summary>The learner to promote has not caught up with the leader's log yet.</summary>
    LearnerBehind = 7,
}

/// <summary>
/// The answer to <see cref="RaftNode.Propose"/> and <see cref="RaftNode.ProposeConfigChange"/>. When accepted,
/// <see cref="Entry"/> names the entry that holds the command: it is committed only if an entry with this very id
/// comes out in <see cref="Ready.CommittedEntries"/>.
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

/// <summary>The answer to <see cref="RaftNode.TransferLeadership"/>.</summary>
public readonly record struct TransferResult(RequestStatus Status, ReplicaId LeaderHint)
{
    /// <summary>True when the transfer started (it may still abort after an election timeout).</summary>
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
