using System.Collections.Immutable;
using Akka.Actor;
using KvActors.Node.Placement;
using KvActors.Raft.Ids;

namespace KvActors.Node.Topology;

/// <summary>How the cluster sees a node now (Akka.Cluster's view; it routes and places, Raft never depends on it).</summary>
public enum NodeReachability
{
    /// <summary>A member that the failure detector can reach.</summary>
    Up,

    /// <summary>A member that some node's failure detector cannot reach.</summary>
    Unreachable,

    /// <summary>Downed, leaving or removed: its replicas are gone until it rejoins as a new member.</summary>
    Down,
}

/// <summary>One node as this node's <see cref="NodeDirectory"/> knows it.</summary>
/// <param name="NodeId">The operator's name for it (<c>n1</c>).</param>
/// <param name="Endpoint">The <c>host:port</c> it binds and advertises.</param>
/// <param name="Address">Its Akka address (changes when the process restarts).</param>
/// <param name="ReplicaId">Its node replica id (changes only when its data directory is wiped): see <see cref="ReplicaOf"/>.</param>
/// <param name="Shards">The shards it hosts a replica of, ascending.</param>
/// <param name="Status">How the cluster sees it now.</param>
public sealed record KnownNode(string NodeId, string Endpoint, Address Address, ReplicaId ReplicaId, ImmutableArray<int> Shards,
    NodeReachability Status)
{
    /// <summary>The shards a replica of it was removed from, once per removal, ascending.</summary>
    public ImmutableArray<int> Removed { get; init; } = [];

    /// <summary>The shards its replica leads, as it last said, ascending.</summary>
    public ImmutableArray<int> Leading { get; init; } = [];

    /// <summary>An operator drains it: its replicas and leaderships move away, and no new replica is placed on it.</summary>
    public bool Draining { get; init; }

    /// <summary>Up and not draining: it may take a new replica or a leadership.</summary>
    public bool TakesReplicas => Status == NodeReachability.Up && !Draining;

    /// <summary>The id of its replica of <paramref name="shard"/>: the one it hosts, or the one it would start next.</summary>
    public ReplicaId ReplicaOf(int shard) => ReplicaIds.ForShard(ReplicaId, shard, Removed.Count(s => s == shard));

    /// <summary>Whether <paramref name="replica"/> is (or was) one of its replicas.</summary>
    public bool Owns(ReplicaId replica) => AllReplicaIds().Contains(replica);

    /// <summary>Its node replica id, then for each removal the id of the replica of that shard that came after it.</summary>
    public IEnumerable<ReplicaId> AllReplicaIds()
    {
        yield return ReplicaId;
        for (int i = 0; i < Removed.Length; i++)
        {
            int shard = Removed[i];
            yield return ReplicaIds.ForShard(ReplicaId, shard, i + 1 - Removed.IndexOf(shard));  // Removed is sorted
        }
    }
}

/// <summary>Every node this node knows of: members that answered who they are.</summary>
public sealed record KnownNodes(ImmutableArray<KnownNode> Nodes)
{
    /// <summary>None known.</summary>
    public static KnownNodes Empty { get; } = new([]);

    // Built once: managers, hosts and gateways look nodes up by replica id on every poll and every routing change.
    private readonly Dictionary<ReplicaId, KnownNode> _byReplica = Index(Nodes);

    /// <summary>The node whose replica (current or removed) answers to <paramref name="replica"/>, or null.</summary>
    public KnownNode? ByReplica(ReplicaId replica) => _byReplica.GetValueOrDefault(replica);

    private static Dictionary<ReplicaId, KnownNode> Index(ImmutableArray<KnownNode> nodes)
    {
        var index = new Dictionary<ReplicaId, KnownNode>();
        foreach (KnownNode node in nodes)
        {
            foreach (ReplicaId id in node.AllReplicaIds()) index.TryAdd(id, node);      // the first node listed wins, as before
        }
        return index;
    }

    /// <summary>The nodes hosting a replica of <paramref name="shard"/>.</summary>
    public IEnumerable<KnownNode> Hosting(int shard) => Nodes.Where(n => n.Shards.Contains(shard));

    /// <summary>The node id to show for <paramref name="replica"/>: its node's id, or <c>replica-{id}</c> when unknown.</summary>
    public string NameOf(ReplicaId replica) => ByReplica(replica)?.NodeId ?? $"replica-{replica.Value}";
}

/// <summary>Asks the local <see cref="NodeDirectory"/> (<c>/user/directory</c>) for its <see cref="KnownNodes"/>.</summary>
public sealed record GetKnownNodes
{
    /// <summary>The only instance.</summary>
    public static GetKnownNodes Instance { get; } = new();
}

/// <summary>Subscribes the sender to <see cref="KnownNodes"/>: the current one at once, then every change.</summary>
public sealed record SubscribeKnownNodes
{
    /// <summary>The only instance.</summary>
    public static SubscribeKnownNodes Instance { get; } = new();
}
