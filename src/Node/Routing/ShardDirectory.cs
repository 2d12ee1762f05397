using System.Collections.Immutable;
using Akka.Actor;
using KvActors.Node.Replica;
using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Routing;

/// <summary>
/// Where every replica of every shard lives: what placement produces and the Gateway routes by. Immutable; a new
/// placement is a new directory (<see cref="UpdateShardDirectory"/>). It only routes: Raft alone decides who votes
/// and who leads.
/// </summary>
public sealed record ShardDirectory
{
    /// <summary>Builds a directory of <c>shards.Length</c> shards.</summary>
    /// <param name="shards">For shard i, its replicas by id. A shard may have none yet (its nodes have not said so): the
    /// Gateway then retries its requests until the deadline.</param>
    /// <exception cref="ArgumentException">No shards.</exception>
    public ShardDirectory(IReadOnlyList<IReadOnlyDictionary<ReplicaId, ActorPath>> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0) throw new ArgumentException("a directory needs at least one shard", nameof(shards));
        var builder = ImmutableArray.CreateBuilder<ShardReplicas>(shards.Count);
        for (int shard = 0; shard < shards.Count; shard++)
        {
            IReadOnlyDictionary<ReplicaId, ActorPath> replicas = shards[shard];
            ReplicaId[] ids = [.. replicas.Keys];
            Array.Sort(ids);       // replica id order, so that "any replica" is the same choice on every run
            var paths = new ActorPath[ids.Length];
            for (int i = 0; i < ids.Length; i++) paths[i] = replicas[ids[i]];
            builder.Add(new ShardReplicas([.. ids], [.. paths]));
        }
        Shards = builder.MoveToImmutable();
    }

    /// <summary>A directory of <paramref name="shardCount"/> shards whose replicas are not known yet.</summary>
    public static ShardDirectory Empty(int shardCount) =>
        new(Enumerable.Range(0, shardCount).Select(_ => (IReadOnlyDictionary<ReplicaId, ActorPath>)new Dictionary<ReplicaId, ActorPath>()).ToArray());

    /// <summary>
    /// The directory that <paramref name="known"/> nodes describe: every node not down that says it hosts a shard
    /// serves it, at <see cref="NodePaths.ReplicaOn"/>.
    /// </summary>
    public static ShardDirectory From(KnownNodes known, int shardCount)
    {
        var shards = new Dictionary<ReplicaId, ActorPath>[shardCount];
        for (int shard = 0; shard < shardCount; shard++) shards[shard] = [];
        foreach (KnownNode node in known.Nodes)
        {
            if (node.Status == NodeReachability.Down) continue;
            foreach (int shard in node.Shards)
            {
                if (shard >= 0 && shard < shardCount)
                    shards[shard][node.ReplicaOf(shard)] = NodePaths.ReplicaOn(node.Address, new ReplicaAddress(shard, node.ReplicaOf(shard)));
            }
        }
        return new ShardDirectory(shards);
    }

    /// <summary>The cluster's shard count: at least 1, fixed when it was created.</summary>
    public int ShardCount => Shards.Length;

    /// <summary>Shard i's replicas, at index i.</summary>
    public ImmutableArray<ShardReplicas> Shards { get; }
}

/// <summary>The replicas of one shard, in ascending replica id order.</summary>
/// <param name="Ids">Their ids, ascending; empty while none is known.</param>
/// <param name="Paths">Where each lives: <c>Paths[i]</c> is replica <c>Ids[i]</c>.</param>
public sealed record ShardReplicas(ImmutableArray<ReplicaId> Ids, ImmutableArray<ActorPath> Paths)
{
    /// <summary>The position of <paramref name="replica"/> in <see cref="Ids"/>, or -1.</summary>
    public int IndexOf(ReplicaId replica) => Ids.IndexOf(replica);
}

/// <summary>Tells a Gateway where the replicas are now. Leader hints for replicas still listed are kept.</summary>
/// <param name="Directory">The new directory; its shard count must not change.</param>
public sealed record UpdateShardDirectory(ShardDirectory Directory);
