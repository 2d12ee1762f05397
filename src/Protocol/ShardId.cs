using System.Globalization;

namespace KvActors.Protocol;

/// <summary>
/// Identifies one shard of the key space: a value in <c>[0, shardCount)</c>, fixed for the life of the cluster.
/// Each shard is one Raft group.
/// </summary>
/// <param name="Value">The shard's number, from 0 to the cluster's shard count minus one.</param>
public readonly record struct ShardId(int Value)
{
    /// <summary>Returns the shard number in invariant culture, e.g. <c>7</c>.</summary>
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
