using KvActors.Node.StateMachine;
using KvActors.Protocol;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

public sealed class RangeTests
{
    private readonly Shard _shard = new();

    public RangeTests()
    {
        foreach (string key in new[] { "b", "a", "ab", "c", "d", "b\0" })
            _shard.Apply(Kv.Put(key, "v-" + key));
    }

    private static List<string> Keys(KvReply reply) => [.. reply.Range.Kvs.Select(kv => Kv.Text(kv.Key))];

    [Fact]
    public void A_range_returns_the_keys_from_start_up_to_but_not_including_end_in_byte_order()
    {
        KvReply range = _shard.Apply(Kv.Range("ab", "c"));

        Keys(range).Should().Equal("ab", "b", "b\0");
        range.Range.Count.Should().Be(3);
        range.Range.More.Should().BeFalse();
    }

    [Fact]
    public void An_empty_end_reads_to_the_end_of_the_shard_and_a_zero_byte_start_from_its_beginning()
    {
        KvReply range = _shard.Apply(new KvRequest { Range = new RangeRequest { Start = Google.Protobuf.ByteString.CopyFrom(KvLimits.WholeShardStart) } });

        Keys(range).Should().Equal("a", "ab", "b", "b\0", "c", "d");
    }

    [Fact]
    public void A_limit_truncates_the_pairs_while_count_tells_the_total_and_more_says_there_is_more()
    {
        KvReply range = _shard.Apply(Kv.Range("a", limit: 2));

        Keys(range).Should().Equal("a", "ab");
        range.Range.Count.Should().Be(6);
        range.Range.More.Should().BeTrue();
    }

    [Fact]
    public void Keys_only_leaves_values_empty_but_keeps_revisions()
    {
        KvReply range = _shard.Apply(Kv.Range("c", keysOnly: true));

        range.Range.Kvs.Select(Shard.Describe).Should().Equal("c=@4/4/1", "d=@5/5/1");
    }

    [Fact]
    public void Count_only_returns_the_count_and_no_pairs()
    {
        KvReply range = _shard.Apply(Kv.Range("b", countOnly: true));

        range.Range.Count.Should().Be(4);
        range.Range.Kvs.Should().BeEmpty();
        range.Range.More.Should().BeFalse();
    }

    [Fact]
    public void A_range_over_no_keys_is_empty()
    {
        KvReply range = _shard.Apply(Kv.Range("e"));

        range.Error.Should().Be(ErrorCode.Ok);
        range.Range.Count.Should().Be(0);
        range.Range.Kvs.Should().BeEmpty();
    }

    [Fact]
    public void Limit_zero_means_the_shard_s_maximum()
    {
        var shard = new Shard(new StateMachineSettings { Limits = new KvLimits { MaxRangeLimit = 4 } });
        foreach (string key in new[] { "a", "b", "c", "d", "e" })
            shard.Apply(Kv.Put(key, "v"));

        KvReply range = shard.Apply(Kv.Range("a"));

        Keys(range).Should().Equal("a", "b", "c", "d");
        range.Range.More.Should().BeTrue();
    }

    [Fact]
    public void A_reply_stops_before_its_pairs_exceed_the_byte_limit_but_always_carries_one_pair()
    {
        var shard = new Shard(new StateMachineSettings { Limits = new KvLimits { MaxRangeReplyBytes = 10 } });
        shard.Apply(Kv.Put("a", "1234"));      // 5 bytes
        shard.Apply(Kv.Put("b", "1234"));      // 10 in all
        shard.Apply(Kv.Put("c", "1"));         // 12: over
        shard.Apply(Kv.Put("z", "123456789012345"));

        Keys(shard.Apply(Kv.Range("a"))).Should().Equal("a", "b");
        KvReply big = shard.Apply(Kv.Range("z"));
        Keys(big).Should().Equal("z");
        big.Range.More.Should().BeFalse();
        Keys(shard.Apply(Kv.Range("a", keysOnly: true))).Should().Equal("a", "b", "c", "z");
    }
}
