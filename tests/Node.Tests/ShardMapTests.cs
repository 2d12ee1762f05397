using System.Text;
using KvActors.Protocol;

namespace KvActors.Node.Tests;

public sealed class ShardMapTests
{
    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void The_same_key_always_maps_to_the_same_shard()
    {
        ShardId first = ShardMap.ShardOf(Key("user/42"), 16);

        for (int i = 0; i < 100; i++)
            ShardMap.ShardOf(Key("user/42"), 16).Should().Be(first);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void Every_key_maps_to_a_shard_in_range(int shardCount)
    {
        for (int i = 0; i < 1_000; i++)
        {
            int shard = ShardMap.ShardOf(Key($"key-{i}"), shardCount).Value;
            shard.Should().BeInRange(0, shardCount - 1, "key-{0} with {1} shards", i, shardCount);
        }
    }

    [Fact]
    public void Ten_thousand_keys_spread_roughly_evenly_over_sixteen_shards()
    {
        var counts = new int[16];
        for (int i = 0; i < 10_000; i++)
            counts[ShardMap.ShardOf(Key($"key-{i}"), 16).Value]++;

        // 625 expected per shard; 400..850 is far outside chance for a good hash and catches a broken one.
        counts.Should().OnlyContain(count => count >= 400 && count <= 850, "counts were [{0}]", string.Join(", ", counts));
    }

    // Golden values: node and client in different processes, machines and .NET versions must agree on the
    // owner of a key, and a cluster's data is placed by this mapping. If one of these changes, existing
    // clusters would look for their keys on the wrong shard: that is a breaking change of the wire contract.
    [Theory]
    [InlineData("user/42", 16, 7)]
    [InlineData("user/42", 1000, 135)]
    [InlineData("a", 16, 11)]
    [InlineData("", 16, 9)]   // XxHash64("", seed 0) = 0xEF46DB3751D8E999, the published reference value
    public void A_known_key_maps_to_a_fixed_shard_in_every_process(string key, int shardCount, int expectedShard)
    {
        ShardMap.ShardOf(Key(key), shardCount).Should().Be(new ShardId(expectedShard));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_shard_count_below_one_is_rejected(int shardCount)
    {
        Action act = () => ShardMap.ShardOf(Key("a"), shardCount);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("shardCount");
    }

    [Fact]
    public void A_shard_prints_as_its_bare_number()
    {
        new ShardId(7).ToString().Should().Be("7");
    }
}
