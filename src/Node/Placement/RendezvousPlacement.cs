using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace KvActors.Node.Placement;

/// <summary>
/// Where a shard's initial replicas live: rendezvous (highest-random-weight) hashing of (shard, seed). Every seed
/// computes the same answer from the same seed list, so the initial membership of every shard is known everywhere
/// without a coordinator, and adding a seed moves only the shards that now rank it highest.
/// </summary>
public static class RendezvousPlacement
{
    /// <summary>
    /// The seeds that host <paramref name="shard"/>'s initial replicas: the <paramref name="replication"/> seeds with
    /// the highest score for it, best first. <paramref name="seeds"/> are node addresses (<c>host:port</c>); their
    /// order does not matter. Ties (practically impossible with 64-bit scores) fall to the ordinal order of the
    /// addresses.
    /// </summary>
    /// <exception cref="ArgumentException">No seeds, a duplicate seed, or a replication outside [1, seeds].</exception>
    public static IReadOnlyList<string> SeedsFor(int shard, IReadOnlyCollection<string> seeds, int replication)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        if (seeds.Count == 0) throw new ArgumentException("the seed list is empty", nameof(seeds));
        if (seeds.Distinct(StringComparer.Ordinal).Count() != seeds.Count)
            throw new ArgumentException($"the seed list names a seed twice: {string.Join(",", seeds)}", nameof(seeds));
        if (replication < 1 || replication > seeds.Count)
            throw new ArgumentException($"replication {replication} needs between 1 and {seeds.Count} seeds (the seed list has {seeds.Count})", nameof(replication));
        return seeds
            .Select(seed => (Seed: seed, Score: Score(shard, seed)))
            .OrderByDescending(s => s.Score)
            .ThenBy(s => s.Seed, StringComparer.Ordinal)
            .Take(replication)
            .Select(s => s.Seed)
            .ToArray();
    }

    /// <summary>The weight of <paramref name="seed"/> for <paramref name="shard"/>: XxHash64 of the shard number and the address.</summary>
    public static ulong Score(int shard, string seed)
    {
        byte[] address = Encoding.UTF8.GetBytes(seed);
        var input = new byte[4 + address.Length];
        BinaryPrimitives.WriteInt32LittleEndian(input, shard);
        address.CopyTo(input, 4);
        return XxHash64.HashToUInt64(input, seed: 0);
    }
}
