using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using KvActors.Raft.Ids;

namespace KvActors.Node.Placement;

/// <summary>
/// Replica ids. Each incarnation of a node has a node replica id: a seed's first incarnation uses one every seed can
/// compute from its endpoint, so the initial membership of every shard is known without a coordinator; every later
/// incarnation (a wiped seed, a node that joins) draws a fresh random one. A node's first replica of a shard answers
/// to the node replica id; once that replica has been removed from the shard, the node's next replica of the same
/// shard gets a new id derived from it (<see cref="ForShard"/>), so an empty replica never answers to the id of one
/// that voted. Ids are 63-bit and never 0.
/// </summary>
public static class ReplicaIds
{
    /// <summary>The replica id of the seed at <paramref name="endpoint"/> when the cluster forms.</summary>
    public static ReplicaId Initial(string endpoint)
    {
        ulong hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes("kvactors-initial-replica/" + endpoint)) & long.MaxValue;
        return new ReplicaId(hash == 0 ? 1 : hash);
    }

    /// <summary>
    /// The id of a node's replica of <paramref name="shard"/> after <paramref name="removals"/> earlier replicas of that
    /// shard on the same node were removed: the node replica id itself for the first.
    /// </summary>
    public static ReplicaId ForShard(ReplicaId node, int shard, int removals)
    {
        if (removals == 0) return node;
        ulong hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes($"kvactors-shard-replica/{node.Value}/{shard}/{removals}")) & long.MaxValue;
        return new ReplicaId(hash == 0 ? 1 : hash);
    }

    /// <summary>A fresh random replica id for a new incarnation.</summary>
    public static ReplicaId Fresh()
    {
        Span<byte> bytes = stackalloc byte[8];
        while (true)
        {
            RandomNumberGenerator.Fill(bytes);
            ulong id = BitConverter.ToUInt64(bytes) & long.MaxValue;
            if (id != 0) return new ReplicaId(id);
        }
    }

    /// <summary>The initial voters of <paramref name="shard"/>: the initial replica ids of the seeds placement picks.</summary>
    public static ReplicaId[] InitialVoters(int shard, IReadOnlyCollection<string> seeds, int replication) =>
        [.. RendezvousPlacement.SeedsFor(shard, seeds, replication).Select(Initial)];

    /// <summary>The shards whose initial replicas placement puts on the seed at <paramref name="endpoint"/>, ascending.</summary>
    public static int[] InitialShards(string endpoint, IReadOnlyCollection<string> seeds, int shards, int replication) =>
        [.. Enumerable.Range(0, shards).Where(s => RendezvousPlacement.SeedsFor(s, seeds, replication).Contains(endpoint))];
}
