using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using KvActors.Raft.Ids;

namespace KvActors.Node.Placement;

/// <summary>
/// Replica ids. A node's replicas of every shard share one id. A seed's first incarnation uses an id every seed can
/// compute from its endpoint, so the initial membership of every shard is known without a coordinator; every later
/// incarnation (a wiped seed, a node that joins) draws a fresh random one. Ids are 63-bit and never 0.
/// </summary>
public static class ReplicaIds
{
    /// <summary>The replica id of the seed at <paramref name="endpoint"/> when the cluster forms.</summary>
    public static ReplicaId Initial(string endpoint)
    {
        ulong hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes("kvactors-initial-replica/" + endpoint)) & long.MaxValue;
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
