using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>Put, Delete and Get, one behaviour each.</summary>
public sealed class CommandTests
{
    private readonly Shard _shard = new();

    [Fact]
    public void A_put_key_reads_back_with_its_value_and_metadata()
    {
        KvReply put = _shard.Apply(Kv.Put("a", "1"));
        KvReply get = _shard.Apply(Kv.Get("a"));

        put.Error.Should().Be(ErrorCode.Ok);
        put.Revision.Should().Be(1);
        put.Put.Prev.Should().BeNull();
        get.Get.Found.Should().BeTrue();
        Shard.Describe(get.Get.Kv).Should().Be("a=1@1/1/1");
        get.Revision.Should().Be(1);
    }

    [Fact]
    public void Getting_an_absent_key_is_ok_and_says_not_found()
    {
        KvReply get = _shard.Apply(Kv.Get("missing"));

        get.Error.Should().Be(ErrorCode.Ok);
        get.Get.Found.Should().BeFalse();
        get.Get.Kv.Should().BeNull();
    }

    [Fact]
    public void A_put_with_prev_kv_returns_the_pair_it_replaced()
    {
        _shard.Apply(Kv.Put("a", "old"));

        KvReply put = _shard.Apply(Kv.Put("a", "new", prevKv: true));

        Shard.Describe(put.Put.Prev).Should().Be("a=old@1/1/1");
        _shard.Dump().Should().Equal("a=new@1/2/2");
    }

    [Fact]
    public void A_put_without_prev_kv_returns_no_previous_pair()
    {
        _shard.Apply(Kv.Put("a", "old"));

        _shard.Apply(Kv.Put("a", "new")).Put.Prev.Should().BeNull();
    }

    [Fact]
    public void A_delete_removes_the_key_and_reports_one_deletion_and_the_removed_pair()
    {
        _shard.Apply(Kv.Put("a", "1"));

        KvReply delete = _shard.Apply(Kv.Delete("a", prevKv: true));

        delete.Delete.Deleted.Should().Be(1);
        Shard.Describe(delete.Delete.Prev).Should().Be("a=1@1/1/1");
        delete.Revision.Should().Be(2);
        _shard.Apply(Kv.Get("a")).Get.Found.Should().BeFalse();
    }

    [Fact]
    public void Deleting_an_absent_key_deletes_nothing_and_keeps_the_revision()
    {
        _shard.Apply(Kv.Put("a", "1"));

        KvReply delete = _shard.Apply(Kv.Delete("b", prevKv: true));

        delete.Error.Should().Be(ErrorCode.Ok);
        delete.Delete.Deleted.Should().Be(0);
        delete.Delete.Prev.Should().BeNull();
        delete.Revision.Should().Be(1);
    }

    [Fact]
    public void Empty_values_are_values()
    {
        _shard.Apply(Kv.Put("a", ""));

        KvReply get = _shard.Apply(Kv.Get("a"));

        get.Get.Found.Should().BeTrue();
        get.Get.Kv.Value.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Read_answers_gets_and_ranges_from_current_state_without_applying_anything()
    {
        _shard.Apply(Kv.Put("a", "1"));
        ulong applied = _shard.Machine.AppliedIndex;

        KvReply get = _shard.Read(Kv.Get("a"));
        KvReply range = _shard.Read(Kv.Range("a"));

        Shard.Describe(get.Get.Kv).Should().Be("a=1@1/1/1");
        range.Range.Count.Should().Be(1);
        get.Revision.Should().Be(1);
        _shard.Machine.AppliedIndex.Should().Be(applied);
    }

    [Fact]
    public void Read_refuses_anything_but_a_get_or_a_range()
    {
        KvReply reply = _shard.Read(Kv.Put("a", "1"));

        reply.Error.Should().Be(ErrorCode.InvalidArgument);
        reply.Message.Should().Contain("only Get and Range");
        _shard.Dump().Should().BeEmpty();
    }

    [Fact]
    public void A_no_op_entry_only_advances_the_applied_index()
    {
        _shard.Apply(Kv.Put("a", "1"));

        _shard.NoOp();

        _shard.Machine.AppliedIndex.Should().Be(2);
        _shard.Machine.Revision.Should().Be(1);
    }

    [Fact]
    public void Applying_out_of_order_is_a_bug_and_throws()
    {
        _shard.Apply(Kv.Put("a", "1"));
        byte[] put = Google.Protobuf.MessageExtensions.ToByteArray(Kv.Put("b", "2"));

        Action skip = () => _shard.Machine.Apply(3, put);
        Action repeat = () => _shard.Machine.Apply(1, put);
        Action noOpSkip = () => _shard.Machine.AdvanceIndex(5);

        skip.Should().Throw<InvalidOperationException>().WithMessage("*applied up to 1*next is 2*");
        repeat.Should().Throw<InvalidOperationException>();
        noOpSkip.Should().Throw<InvalidOperationException>();
        _shard.Machine.AppliedIndex.Should().Be(1);
    }
}
