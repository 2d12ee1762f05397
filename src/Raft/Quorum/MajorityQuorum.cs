using System.Collections.Immutable;
using KvActors.Raft.Ids;

namespace KvActors.Raft.Quorum;

/// <summary>Majority arithmetic over one set of voters.</summary>
internal static class MajorityQuorum
{
    public static int Size(int voters) => voters / 2 + 1;

    /// <summary>The highest index that a majority of <paramref name="voters"/> have at least reached.</summary>
    public static LogIndex CommittedIndex(ImmutableSortedSet<ReplicaId> voters, Func<ReplicaId, LogIndex> match)
    {
        int n = voters.Count;
        if (n == 0) return default;
        Span<ulong> indexes = n <= 16 ? stackalloc ulong[n] : new ulong[n];
        int i = 0;
        foreach (ReplicaId voter in voters) indexes[i++] = match(voter).Value;
        indexes.Sort();
        // Sorted ascending: the entry at n - quorum is reached by the quorum of voters at or above it.
        return new LogIndex(indexes[n - Size(n)]);
    }
}
