using System.Collections.Immutable;
using KvActors.Raft.Ids;

namespace KvActors.Raft;

/// <summary>The replicas of one Raft group whose votes and acknowledgements count. Sorted by id.</summary>
public sealed record Membership(ImmutableSortedSet<ReplicaId> Voters)
{
    /// <summary>A membership of the given voters.</summary>
    public static Membership Of(params ReplicaId[] voters) => new(ImmutableSortedSet.CreateRange(voters));

    /// <summary>True when <paramref name="id"/> votes in this membership.</summary>
    public bool IsVoter(ReplicaId id) => Voters.Contains(id);

    /// <inheritdoc />
    public bool Equals(Membership? other) => other is not null && Voters.SetEquals(other.Voters);

    /// <inheritdoc />
    public override int GetHashCode() => Voters.Count;

    /// <inheritdoc />
    public override string ToString() => $"voters=[{string.Join(",", Voters)}]";
}
