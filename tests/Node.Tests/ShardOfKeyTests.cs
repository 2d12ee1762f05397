using System.Text;
using KvActors.Protocol;

namespace KvActors.Node.Tests;

/// <summary>Hash tags: a key containing <c>{tag}</c> is placed by the tag alone (Redis Cluster's rule).</summary>
public sealed class ShardOfKeyTests
{
    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Keys_with_the_same_tag_map_to_the_shard_of_the_tag()
    {
        for (int i = 0; i < 100; i++)
        {
            ShardId byTag = ShardMap.ShardOf(Key($"user{i}"), 16);
            ShardMap.ShardOfKey(Key($"{{user{i}}}/name"), 16).Should().Be(byTag);
            ShardMap.ShardOfKey(Key($"x{{user{i}}}y{{other}}"), 16).Should().Be(byTag, "only the first tag counts");
        }
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("{}x")]
    [InlineData("{open")]
    [InlineData("close}{")]
    [InlineData("")]
    public void A_key_without_a_non_empty_tag_is_placed_by_all_its_bytes(string key) =>
        ShardMap.ShardOfKey(Key(key), 16).Should().Be(ShardMap.ShardOf(Key(key), 16));
}
