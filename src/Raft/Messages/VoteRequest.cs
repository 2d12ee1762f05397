using KvActors.Raft.Ids;

namespace KvActors.Raft.Messages;

/// <summary>
/// Candidate to voter: vote for me in <see cref="RaftMessage.Term"/>; my log ends at <see cref="LastLog"/>.
/// A <see cref="PreVote"/> request asks "would you vote for me?" at the term the candidate <em>would</em> use;
/// it changes nobody's term or vote (Raft dissertation §9.6).
/// </summary>
public sealed record VoteRequest(ReplicaId From, ReplicaId To, Term Term, EntryId LastLog, bool PreVote)
    : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() => $"{From}->{To} {(PreVote ? "PreVote" : "Vote")} term={Term} last={LastLog}";
}

/// <summary>
/// Voter to candidate: the answer to a <see cref="VoteRequest"/> of the same kind. A granted pre-vote carries the
/// term it was asked at, so that the candidate does not drop it as stale; a refusal carries the voter's term.
/// </summary>
public sealed record VoteResponse(ReplicaId From, ReplicaId To, Term Term, bool PreVote, bool Granted)
    : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{From}->{To} {(PreVote ? "PreVote" : "Vote")}{(Granted ? "Granted" : "Refused")} term={Term}";
}
