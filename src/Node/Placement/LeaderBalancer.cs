using KvActors.Node.Topology;

namespace KvActors.Node.Placement;

/// <summary>
/// Leader spreading, decided by every shard's manager on its own from the same directory view (each node says which
/// shards it leads, <see cref="KnownNode.Leading"/>). A shard hands leadership from its leader's node to the voter
/// node that leads the fewest shards when the two lead two or more apart: each transfer brings the counts closer. As
/// with <see cref="ReplicaBalancer"/>, the transfers lower-numbered shards would make now are counted as made before
/// a shard decides, so that shards deciding at once do not all hand leadership to the one node that leads least.
/// A draining node (<see cref="KnownNode.Draining"/>) is never handed a leadership and hands on every one it has.
/// </summary>
public static class LeaderBalancer
{
    /// <summary>
    /// The voter node of <paramref name="shard"/> to hand leadership to, or null. <paramref name="leader"/> is the node
    /// of its leader, <paramref name="voters"/> the nodes of its other voters.
    /// </summary>
    public static KnownNode? Target(KnownNodes known, int shard, KnownNode leader, IReadOnlyCollection<KnownNode> voters)
    {
        KnownNode[] live = [.. known.Nodes.Where(n => n.Status == NodeReachability.Up)];
        Dictionary<string, int> leads = live.ToDictionary(n => n.NodeId, n => n.Leading.Length);
        foreach (int earlier in live.SelectMany(n => n.Leading).Distinct().Where(s => s < shard).Order())
        {
            KnownNode from = live.First(n => n.Leading.Contains(earlier));
            if (Pick(from, live.Where(n => n.Shards.Contains(earlier)), earlier, leads) is not { } to) continue;
            leads[from.NodeId]--;
            leads[to.NodeId]++;
        }
        return leads.ContainsKey(leader.NodeId) ? Pick(leader, voters.Where(v => leads.ContainsKey(v.NodeId)), shard, leads) : null;
    }

    /// <summary>
    /// The candidate not draining that leads the fewest (ties by the shard's rendezvous order), if it leads two fewer
    /// than <paramref name="from"/> or <paramref name="from"/> is draining.
    /// </summary>
    private static KnownNode? Pick(KnownNode from, IEnumerable<KnownNode> candidates, int shard, Dictionary<string, int> leads)
    {
        KnownNode? to = candidates.Where(n => n.NodeId != from.NodeId && !n.Draining)
            .OrderBy(n => leads[n.NodeId])
            .ThenByDescending(n => RendezvousPlacement.Score(shard, n.Endpoint))
            .FirstOrDefault();
        return to is not null && (from.Draining || leads[from.NodeId] - leads[to.NodeId] >= 2) ? to : null;
    }
}
