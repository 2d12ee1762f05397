using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Placement;

/// <summary>One replica of a shard to move: from a node holding more replicas to one holding fewer.</summary>
/// <param name="From">The live node that hosts the shard and is draining, or else holds the most replicas.</param>
/// <param name="To">The live node that does not host the shard, may host it, is not draining, and holds the fewest replicas.</param>
public sealed record ReplicaMove(KnownNode From, KnownNode To);

/// <summary>
/// Replica balancing, decided by every shard's manager on its own from the same directory view. A shard moves a replica
/// from its most loaded live host to the least loaded live node that may host it when the two hold two or more replicas
/// apart: every move brings the counts closer, and they stop within one of each other (so within one of the average).
/// A draining node (<see cref="KnownNode.Draining"/>) takes no replica and gives every one away, before any other move.
/// Moves are limited cluster-wide: a shard in flight (hosted by more live nodes than the replication factor: its new
/// replica is there, its old one not yet gone) takes a slot, and so does every lower-numbered shard that would move
/// now. Those lower-numbered moves are counted as made before this shard decides, so that two shards deciding at once
/// do not both send a replica to the one emptiest node.
/// </summary>
public static class ReplicaBalancer
{
    /// <summary>
    /// The move <paramref name="shard"/> should start now, or null: none would bring the counts closer, the shard is
    /// already moving, or <paramref name="maxConcurrentMoves"/> moves are taken. <paramref name="replication"/> is the
    /// number of voters every shard has; <paramref name="refused"/> are replicas whose node refused to host this shard.
    /// </summary>
    public static ReplicaMove? Next(KnownNodes known, int shard, int replication, int maxConcurrentMoves, IReadOnlySet<ReplicaId> refused)
    {
        KnownNode[] live = [.. known.Nodes.Where(n => n.Status == NodeReachability.Up)];
        if (InFlight(live, shard, replication)) return null;
        int[] others = [.. known.Nodes.SelectMany(n => n.Shards).Distinct().Where(s => s != shard).Order()];
        int taken = others.Count(s => InFlight(live, s, replication));
        Dictionary<string, int> counts = live.ToDictionary(n => n.NodeId, n => n.Shards.Length);
        foreach (int earlier in others.Where(s => s < shard && !InFlight(live, s, replication)))
        {
            if (Candidate(live, earlier, refused: null, counts) is not { } move) continue;
            counts[move.From.NodeId]--;
            counts[move.To.NodeId]++;
            taken++;
        }
        return taken < maxConcurrentMoves ? Candidate(live, shard, refused, counts) : null;
    }

    /// <summary>
    /// Where a new replica of <paramref name="shard"/> goes among <paramref name="candidates"/>: a node that does not host
    /// the shard, is not draining, and whose next replica of it is not in <paramref name="refused"/>, holding the fewest replicas (by
    /// <paramref name="counts"/>, else as it says); ties go to the shard's rendezvous order. Null when there is none.
    /// </summary>
    public static KnownNode? NewHost(IEnumerable<KnownNode> candidates, int shard, IReadOnlySet<ReplicaId>? refused,
        IReadOnlyDictionary<string, int>? counts = null) =>
        candidates.Where(n => !n.Draining && !n.Shards.Contains(shard) && refused?.Contains(n.ReplicaOf(shard)) != true)
            .OrderBy(n => Count(n, counts))
            .ThenByDescending(n => RendezvousPlacement.Score(shard, n.Endpoint))
            .FirstOrDefault();

    private static int Count(KnownNode node, IReadOnlyDictionary<string, int>? counts) =>
        counts is not null && counts.TryGetValue(node.NodeId, out int count) ? count : node.Shards.Length;

    private static bool InFlight(KnownNode[] live, int shard, int replication) => live.Count(n => n.Shards.Contains(shard)) > replication;

    private static ReplicaMove? Candidate(KnownNode[] live, int shard, IReadOnlySet<ReplicaId>? refused, Dictionary<string, int> counts)
    {
        KnownNode? from = live.Where(n => n.Shards.Contains(shard))
            .OrderByDescending(n => n.Draining)
            .ThenByDescending(n => counts[n.NodeId])
            .ThenBy(n => RendezvousPlacement.Score(shard, n.Endpoint))
            .FirstOrDefault();
        KnownNode? to = NewHost(live, shard, refused, counts);
        return from is not null && to is not null && (from.Draining || counts[from.NodeId] - counts[to.NodeId] >= 2) ? new ReplicaMove(from, to) : null;
    }
}
