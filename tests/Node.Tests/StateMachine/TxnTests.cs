using KvActors.Protocol.Wire;
using static KvActors.Protocol.Wire.Compare.Types;

namespace KvActors.Node.Tests.StateMachine;

public sealed class TxnTests
{
    private readonly Shard _shard = new();

    [Fact]
    public void When_every_compare_holds_the_success_ops_run()
    {
        _shard.Apply(Kv.Put("a", "1"));

        KvReply txn = _shard.Apply(Kv.Txn(
            [Kv.ValueIs("a", Result.Equal, "1"), Kv.VersionIs("a", Result.Equal, 1)],
            [Kv.OpPut("b", "then")],
            [Kv.OpPut("b", "else")]));

        txn.Error.Should().Be(ErrorCode.Ok);
        txn.Txn.Succeeded.Should().BeTrue();
        txn.Txn.Results.Should().ContainSingle().Which.ResultCase.Should().Be(OpResult.ResultOneofCase.Put);
        _shard.Dump().Should().Contain("b=then@2/2/1");
    }

    [Fact]
    public void When_a_compare_fails_the_failure_ops_run_and_the_reply_is_still_ok()
    {
        _shard.Apply(Kv.Put("a", "1"));

        KvReply txn = _shard.Apply(Kv.Txn(
            [Kv.ValueIs("a", Result.Equal, "1"), Kv.ModRevisionIs("a", Result.Greater, 5)],
            [Kv.OpPut("b", "then")],
            [Kv.OpPut("b", "else"), Kv.OpGet("a")]));

        txn.Error.Should().Be(ErrorCode.Ok);
        txn.Txn.Succeeded.Should().BeFalse();
        txn.Txn.Results.Should().HaveCount(2);
        Shard.Describe(txn.Txn.Results[1].Get.Kv).Should().Be("a=1@1/1/1");
        _shard.Dump().Should().Contain("b=else@2/2/1");
    }

    [Fact]
    public void All_writes_of_a_txn_share_one_new_revision()
    {
        _shard.Apply(Kv.Put("gone", "x"));

        KvReply txn = _shard.Apply(Kv.Txn([], [Kv.OpPut("a", "1"), Kv.OpPut("b", "1"), Kv.OpDelete("gone"), Kv.OpPut("a", "2")]));

        txn.Revision.Should().Be(2);
        _shard.Dump().Should().Equal("a=2@2/2/2", "b=1@2/2/1");
    }

    [Fact]
    public void A_txn_that_changes_nothing_keeps_the_revision()
    {
        _shard.Apply(Kv.Put("a", "1"));

        KvReply txn = _shard.Apply(Kv.Txn([], [Kv.OpGet("a"), Kv.OpDelete("absent"), Kv.OpRange("a")]));

        txn.Revision.Should().Be(1);
        _shard.Machine.Revision.Should().Be(1);
    }

    [Fact]
    public void Later_ops_see_what_earlier_ops_of_the_same_txn_wrote()
    {
        KvReply txn = _shard.Apply(Kv.Txn([], [Kv.OpPut("a", "1"), Kv.OpGet("a"), Kv.OpDelete("a"), Kv.OpGet("a")]));

        Shard.Describe(txn.Txn.Results[1].Get.Kv).Should().Be("a=1@1/1/1");
        txn.Txn.Results[2].Delete.Deleted.Should().Be(1);
        txn.Txn.Results[3].Get.Found.Should().BeFalse();
        txn.Revision.Should().Be(1);
    }

    [Fact]
    public void An_absent_key_compares_as_version_and_revisions_zero_and_fails_every_value_compare()
    {
        KvReply absentByVersion = _shard.Apply(Kv.Txn([Kv.VersionIs("x", Result.Equal, 0), Kv.CreateRevisionIs("x", Result.Less, 1)], []));
        KvReply valueNotEqual = _shard.Apply(Kv.Txn([Kv.ValueIs("x", Result.NotEqual, "anything")], []));

        absentByVersion.Txn.Succeeded.Should().BeTrue();
        valueNotEqual.Txn.Succeeded.Should().BeFalse();
    }

    [Fact]
    public void Value_compares_order_bytes_lexicographically()
    {
        _shard.Apply(Kv.Put("a", "b"));

        _shard.Apply(Kv.Txn([Kv.ValueIs("a", Result.Greater, "a")], [])).Txn.Succeeded.Should().BeTrue();
        _shard.Apply(Kv.Txn([Kv.ValueIs("a", Result.Less, "ba")], [])).Txn.Succeeded.Should().BeTrue();
        _shard.Apply(Kv.Txn([Kv.ValueIs("a", Result.Greater, "b")], [])).Txn.Succeeded.Should().BeFalse();
    }
}
