using System.IO.Hashing;

namespace KvActors.Protocol;

/// <summary>
/// Maps a key to the shard that owns it. Node and client share this mapping, so it must give the same answer
/// in every process, on every platform and in every .NET version: it depends only on the key's bytes and the
/// shard count.
/// </summary>
public static class ShardMap
{
    /// <summary>Returns the shard that owns <paramref name="key"/> in a cluster of <paramref name="shardCount"/> shards.</summary>
    /// <param name="key">The key's bytes; any length, including empty.</param>
    /// <param name="shardCount">The cluster's number of shards; at least 1.</param>
    /// <returns>A shard in <c>[0, shardCount)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is less than 1.</exception>
    public static ShardId ShardOf(ReadOnlySpan<byte> key, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        // XxHash64 is specified bit for bit, unlike string.GetHashCode(), which is randomized per process.
        ulong hash = XxHash64.HashToUInt64(key, seed: 0);
        return new ShardId((int)(hash % (ulong)shardCount));
    }

    /// <summary>
    /// Returns the shard that owns <paramref name="key"/>, honouring hash tags: when the key contains <c>{tag}</c>
    /// (the first <c>{</c> and the first <c>}</c> after it, with at least one byte between them), only the tag's
    /// bytes are hashed, so keys with the same tag live in the same shard and one Txn may span them (Redis
    /// Cluster's rule). A key without a non-empty tag is hashed whole, as <see cref="ShardOf"/> does.
    /// </summary>
    /// <param name="key">The key's bytes; any length, including empty.</param>
    /// <param name="shardCount">The cluster's number of shards; at least 1.</param>
    /// <returns>A shard in <c>[0, shardCount)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is less than 1.</exception>
    public static ShardId ShardOfKey(ReadOnlySpan<byte> key, int shardCount) => ShardOf(HashTag(key), shardCount);

    /// <summary>The bytes that place <paramref name="key"/>: its hash tag if it has a non-empty one, else the whole key.</summary>
    /// <param name="key">The key's bytes.</param>
    public static ReadOnlySpan<byte> HashTag(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open < 0) return key;
        int length = key[(open + 1)..].IndexOf((byte)'}');
        return length > 0 ? key.Slice(open + 1, length) : key;
    }
}
