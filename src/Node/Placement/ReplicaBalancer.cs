using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Placement;

/// <summary>One replica of a shard to move: from a node holding more replicas to one holding fewer.</summary>
/// <param name="From">The live node that hosts the shard and holds the most replicas.</param>
/// <param name="To">The live node that does not host the shard, may host it, and holds the fewest replicas.</param>
public sealed record ReplicaMove(KnownNode From, KnownNode To);

/// <summary>
/// Replica balancing, decided by every shard's manager on its own from the same directory view. A shard moves a replica
/// from its most loaded live host to the least loaded live node that may host it when the two hold two or more replicas
/// apart: every move brings the counts closer, and they stop within one of each other (so within one of the average).
/// Moves are limited cluster-wide: a shard starts one only while fewer than the limit are in flight (a shard in flight
/// is hosted by more live nodes than the replication factor: its new replica is there, its old one not yet gone) and
/// no lower-numbered shard that could move is waiting for the same slot.
/// </summary>
public static class ReplicaBalancer
{
    /// <summary>
    /// The move <paramref name="shard"/> should start now, or null: none would bring the counts closer, the shard is
    /// already moving, or <paramref name="maxConcurrentMoves"/> moves are taken. <paramref name="replication"/> is the
    /// number of voters every shard has; <paramref name="refused"/> are nodes that refused to host this shard.
    /// </summary>
    public static ReplicaMove? Next(KnownNodes known, int shard, int replication, int maxConcurrentMoves, IReadOnlySet<ReplicaId> refused)
    {
        KnownNode[] live = [.. known.Nodes.Where(n => n.Status == NodeReachability.Up)];
        if (InFlight(live, shard, replication) || Candidate(live, shard, refused) is not { } move) return null;
        int[] others = [.. known.Nodes.SelectMany(n => n.Shards).Distinct().Where(s => s != shard)];
        int taken = others.Count(s => InFlight(live, s, replication))
                    + others.Count(s => s < shard && !InFlight(live, s, replication) && Candidate(live, s, refused: null) is not null);
        return taken < maxConcurrentMoves ? move : null;
    }

    /// <summary>
    /// Where a new replica of <paramref name="shard"/> goes among <paramref name="candidates"/>: a node that does not host
    /// the shard, was never removed from it and is not in <paramref name="refused"/>, holding the fewest replicas; ties go
    /// to the shard's rendezvous order. Null when there is none.
    /// </summary>
    public static KnownNode? NewHost(IEnumerable<KnownNode> candidates, int shard, IReadOnlySet<ReplicaId>? refused) =>
        candidates.Where(n => !n.Shards.Contains(shard) && !n.Removed.Contains(shard) && refused?.Contains(n.ReplicaId) != true)
            .OrderBy(n => n.Shards.Length)
            .ThenByDescending(n => RendezvousPlacement.Score(shard, n.Endpoint))
            .FirstOrDefault();

    private static bool InFlight(KnownNode[] live, int shard, int replication) => live.Count(n => n.Shards.Contains(shard)) > replication;

    private static ReplicaMove? Candidate(KnownNode[] live, int shard, IReadOnlySet<ReplicaId>? refused)
    {
        KnownNode? from = live.Where(n => n.Shards.Contains(shard))
            .OrderByDescending(n => n.Shards.Length)
            .ThenBy(n => RendezvousPlacement.Score(shard, n.Endpoint))
            .FirstOrDefault();
        KnownNode? to = NewHost(live, shard, refused);
        return from is not null && to is not null && from.Shards.Length - to.Shards.Length >= 2 ? new ReplicaMove(from, to) : null;
    }
}
