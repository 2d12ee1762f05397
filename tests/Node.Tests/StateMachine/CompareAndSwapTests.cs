using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

public sealed class CompareAndSwapTests
{
    private readonly Shard _shard = new();

    [Fact]
    public void A_swap_on_the_expected_value_writes_and_returns_the_new_pair()
    {
        _shard.Apply(Kv.Put("a", "old"));

        KvReply cas = _shard.Apply(Kv.CasValue("a", "old", "new"));

        cas.Error.Should().Be(ErrorCode.Ok);
        cas.CompareAndSwap.Succeeded.Should().BeTrue();
        Shard.Describe(cas.CompareAndSwap.Current).Should().Be("a=new@1/2/2");
        cas.Revision.Should().Be(2);
    }

    [Fact]
    public void A_swap_on_another_value_is_a_conflict_that_returns_the_current_pair_and_changes_nothing()
    {
        _shard.Apply(Kv.Put("a", "actual"));

        KvReply cas = _shard.Apply(Kv.CasValue("a", "expected", "new"));

        cas.Error.Should().Be(ErrorCode.Conflict);
        cas.Message.Should().NotBeEmpty();
        cas.CompareAndSwap.Succeeded.Should().BeFalse();
        Shard.Describe(cas.CompareAndSwap.Current).Should().Be("a=actual@1/1/1");
        cas.Revision.Should().Be(1);
        _shard.Dump().Should().Equal("a=actual@1/1/1");
    }

    [Fact]
    public void A_swap_on_the_mod_revision_succeeds_only_at_that_revision()
    {
        _shard.Apply(Kv.Put("a", "1"));
        _shard.Apply(Kv.Put("a", "2"));

        KvReply stale = _shard.Apply(Kv.CasModRevision("a", 1, "from-stale"));
        KvReply fresh = _shard.Apply(Kv.CasModRevision("a", 2, "from-fresh"));

        stale.Error.Should().Be(ErrorCode.Conflict);
        stale.Message.Should().Be("the key's mod revision is 2, not 1");
        fresh.CompareAndSwap.Succeeded.Should().BeTrue();
        _shard.Dump().Should().Equal("a=from-fresh@1/3/3");
    }

    [Fact]
    public void Expecting_absence_creates_the_key_once()
    {
        KvReply first = _shard.Apply(Kv.CasAbsent("lock", "me"));
        KvReply second = _shard.Apply(Kv.CasAbsent("lock", "you"));

        first.CompareAndSwap.Succeeded.Should().BeTrue();
        Shard.Describe(first.CompareAndSwap.Current).Should().Be("lock=me@1/1/1");
        second.Error.Should().Be(ErrorCode.Conflict);
        Shard.Describe(second.CompareAndSwap.Current).Should().Be("lock=me@1/1/1");
    }

    [Fact]
    public void Expecting_a_value_or_revision_of_an_absent_key_is_a_conflict_with_no_current_pair()
    {
        KvReply byValue = _shard.Apply(Kv.CasValue("a", "", "new"));
        KvReply byRevision = _shard.Apply(Kv.CasModRevision("a", 1, "new"));

        byValue.Error.Should().Be(ErrorCode.Conflict);
        byValue.CompareAndSwap.Current.Should().BeNull();
        byRevision.Error.Should().Be(ErrorCode.Conflict);
        _shard.Dump().Should().BeEmpty();
        _shard.Machine.Revision.Should().Be(0);
    }
}
