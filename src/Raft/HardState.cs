using KvActors.Raft.Ids;

namespace KvActors.Raft;

/// <summary>
/// What a replica must keep on disk beyond its log (Figure 2, "persistent state"): the current term, whom it
/// voted for in that term, and how far it knows the log to be committed.
/// </summary>
public readonly record struct HardState(Term Term, ReplicaId Vote, LogIndex Commit)
{
    /// <inheritdoc />
    public override string ToString() => $"term={Term} vote={Vote} commit={Commit}";
}
