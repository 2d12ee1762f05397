using System.Collections.Immutable;
using KvActors.Raft.Ids;

namespace KvActors.Raft.Quorum;

/// <summary>The outcome of counting votes.</summary>
internal enum VoteOutcome : byte
{
    Pending = 0,
    Won = 1,
    Lost = 2,
}

/// <summary>
/// Quorum arithmetic over a <see cref="Membership"/>: in a joint configuration a decision needs a majority of the
/// incoming voters and a majority of the outgoing ones (dissertation §4.3). Learners never count.
/// </summary>
internal static class JointQuorum
{
    /// <summary>The highest index that a quorum has at least reached.</summary>
    public static LogIndex CommittedIndex(Membership membership, Func<ReplicaId, LogIndex> match)
    {
        LogIndex incoming = MajorityQuorum.CommittedIndex(membership.Voters, match);
        return membership.IsJoint
            ? LogIndex.Min(incoming, MajorityQuorum.CommittedIndex(membership.OutgoingVoters, match))
            : incoming;
    }

    /// <summary>Counts votes: <paramref name="votes"/> maps a voter to its answer; voters missing from it have not answered.</summary>
    public static VoteOutcome Count(Membership membership, IReadOnlyDictionary<ReplicaId, bool> votes)
    {
        VoteOutcome incoming = Count(membership.Voters, votes);
        if (!membership.IsJoint) return incoming;
        VoteOutcome outgoing = Count(membership.OutgoingVoters, votes);
        if (incoming == VoteOutcome.Lost || outgoing == VoteOutcome.Lost) return VoteOutcome.Lost;
        return incoming == VoteOutcome.Won && outgoing == VoteOutcome.Won ? VoteOutcome.Won : VoteOutcome.Pending;
    }

    private static VoteOutcome Count(ImmutableSortedSet<ReplicaId> voters, IReadOnlyDictionary<ReplicaId, bool> votes)
    {
        int granted = 0, refused = 0;
        foreach (ReplicaId voter in voters)
        {
            if (!votes.TryGetValue(voter, out bool vote)) continue;
            if (vote) granted++;
            else refused++;
        }
        int quorum = MajorityQuorum.Size(voters.Count);
        if (granted >= quorum) return VoteOutcome.Won;
        return refused > voters.Count - quorum ? VoteOutcome.Lost : VoteOutcome.Pending;
    }

    /// <summary>True when the voters for which <paramref name="yes"/> holds form a quorum.</summary>
    public static bool Reached(Membership membership, Func<ReplicaId, bool> yes) =>
        Reached(membership.Voters, yes) && (!membership.IsJoint || Reached(membership.OutgoingVoters, yes));

    private static bool Reached(ImmutableSortedSet<ReplicaId> voters, Func<ReplicaId, bool> yes)
    {
        int count = 0;
        foreach (ReplicaId voter in voters)
            if (yes(voter)) count++;
        return count >= MajorityQuorum.Size(voters.Count);
    }
}
