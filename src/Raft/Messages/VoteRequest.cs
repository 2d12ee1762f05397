using KvActors.Raft.Ids;

namespace KvActors.Raft.Messages;

/// <summary>
/// Candidate to voter: vote for me in <see cref="RaftMessage.Term"/>; my log ends at <see cref="LastLog"/>.
/// A <see cref="PreVote"/> request asks "would you vote for me?" at the term the candidate <em>would</em> use;
/// it changes nobody's term or vote (Raft dissertation §9.6). A <see cref="Transfer"/> election was asked for by the
/// leader itself (leader transfer), so voters answer it even while they still follow that leader.
/// </summary>
public sealed record VoteRequest(ReplicaId From, ReplicaId To, Term Term, EntryId LastLog, bool PreVote, bool Transfer = false)
    : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{From}->{To} {(PreVote ? "PreVote" : "Vote")}{(Transfer ? "(transfer)" : "")} term={Term} last={LastLog}";
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
