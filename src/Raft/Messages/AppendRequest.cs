using System.Collections.Immutable;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft.Messages;

/// <summary>
/// Leader to follower: append <see cref="Entries"/> right after <see cref="Prev"/>, then commit up to
/// <see cref="Commit"/>. At most <see cref="RaftConfig.MaxAppendBytes"/> of entries (or one larger entry);
/// empty when it only probes or carries <see cref="Commit"/>.
/// </summary>
public sealed record AppendRequest(ReplicaId From, ReplicaId To, Term Term,
    EntryId Prev, ImmutableArray<Entry> Entries, LogIndex Commit) : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{From}->{To} App term={Term} prev={Prev} n={Entries.Length} commit={Commit}";
}

/// <summary>
/// Follower to leader: the answer to an <see cref="AppendRequest"/>. On success the follower's log matches the
/// leader's up to <see cref="Index"/>, durably. On refusal, <see cref="Index"/> is the refused request's previous
/// index and <see cref="Hint"/> is the last entry of the follower's log that may still match — the leader skips
/// back to it in one step instead of one entry per round trip (etcd's fast back-off by term).
/// </summary>
public sealed record AppendResponse(ReplicaId From, ReplicaId To, Term Term,
    bool Success, LogIndex Index, EntryId Hint) : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() => Success
        ? $"{From}->{To} AppOk term={Term} index={Index}"
        : $"{From}->{To} AppRefused term={Term} index={Index} hint={Hint}";
}
