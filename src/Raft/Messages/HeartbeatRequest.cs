using KvActors.Raft.Ids;

namespace KvActors.Raft.Messages;

/// <summary>
/// Leader to follower: I still lead in <see cref="RaftMessage.Term"/>; commit up to <see cref="Commit"/> (never past
/// what this follower is known to match). <see cref="ReadRound"/> is the newest ReadIndex round started before this
/// heartbeat left; the answer confirms leadership for every round up to it.
/// </summary>
public sealed record HeartbeatRequest(ReplicaId From, ReplicaId To, Term Term, LogIndex Commit, ulong ReadRound)
    : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() => $"{From}->{To} Beat term={Term} commit={Commit} read={ReadRound}";
}

/// <summary>Follower to leader: the answer to a <see cref="HeartbeatRequest"/>, echoing its <see cref="ReadRound"/>.</summary>
public sealed record HeartbeatResponse(ReplicaId From, ReplicaId To, Term Term, ulong ReadRound)
    : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() => $"{From}->{To} BeatOk term={Term} read={ReadRound}";
}
