using System.Collections.Immutable;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Raft.Tests.Harness;

/// <summary>Membership changes on a <see cref="TestCluster"/>, written the way the scenario tests say them.</summary>
public static class MembershipSteps
{
    /// <summary>A membership by plain ids: <c>Config(voters: [1, 2, 4], outgoing: [1, 2, 3])</c>.</summary>
    public static Membership Config(ulong[] voters, ulong[]? outgoing = null, ulong[]? learners = null) =>
        new(Ids(voters), Ids(outgoing ?? []), Ids(learners ?? []));

    private static ImmutableSortedSet<ReplicaId> Ids(ulong[] ids) => [.. ids.Select(id => new ReplicaId(id))];

    /// <summary>Proposes <paramref name="change"/> on <paramref name="leader"/>, requires it accepted, and stabilizes.</summary>
    public static ProposeResult ChangeMembership(this TestCluster cluster, ulong leader, ConfigChange change)
    {
        ProposeResult result = cluster.Node(leader).ProposeConfigChange(change);
        if (!result.IsAccepted) throw new InvalidOperationException($"{change} on {leader}: {result.Status}");
        cluster.Stabilize();
        return result;
    }

    /// <summary>
    /// Starts brand-new replica <paramref name="learner"/> (empty disk) unless it exists, has <paramref name="leader"/>
    /// add it as a learner, and lets the log and the commit index reach everyone (one heartbeat round).
    /// </summary>
    public static void AddLearner(this TestCluster cluster, ulong leader, ulong learner)
    {
        if (!cluster.Ids.Contains(new ReplicaId(learner))) cluster.AddReplica(learner);
        cluster.ChangeMembership(leader, ConfigChange.AddLearner(new ReplicaId(learner)));
        cluster.TickAll(1);
    }

    /// <summary>The configurations in replica <paramref name="id"/>'s stored log, oldest first, with their indexes.</summary>
    public static List<(LogIndex Index, Membership Membership)> StoredConfigs(this TestCluster cluster, ulong id) =>
        cluster.StoredLog(id)
            .Where(e => e.Kind == EntryKind.Config)
            .Select(e => (e.Index, Membership.Decode(e.Data.Span)
                ?? throw new InvalidOperationException($"configuration entry {e.Id} does not decode")))
            .ToList();

    /// <summary>True when <paramref name="message"/> is an append carrying a configuration entry that <paramref name="which"/> accepts.</summary>
    public static bool CarriesConfig(RaftMessage message, Func<Membership, bool> which) =>
        message is AppendRequest append
        && append.Entries.Any(e => e.Kind == EntryKind.Config && Membership.Decode(e.Data.Span) is { } m && which(m));
}
