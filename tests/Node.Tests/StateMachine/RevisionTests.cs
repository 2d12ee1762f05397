namespace KvActors.Node.Tests.StateMachine;

/// <summary>etcd's revision rules: create_revision, mod_revision = the shard revision of the write, version
/// counts puts since creation, and a delete resets the key.</summary>
public sealed class RevisionTests
{
    private readonly Shard _shard = new();

    [Fact]
    public void The_shard_revision_starts_at_zero_and_each_write_advances_it_by_one()
    {
        _shard.Machine.Revision.Should().Be(0);

        _shard.Apply(Kv.Put("a", "1")).Revision.Should().Be(1);
        _shard.Apply(Kv.Put("b", "1")).Revision.Should().Be(2);
        _shard.Apply(Kv.Delete("a")).Revision.Should().Be(3);
        _shard.Machine.Revision.Should().Be(3);
    }

    [Fact]
    public void Version_counts_puts_and_mod_revision_is_the_revision_of_the_latest_write()
    {
        _shard.Apply(Kv.Put("a", "1"));
        _shard.Apply(Kv.Put("other", "x"));
        _shard.Apply(Kv.Put("a", "2"));
        _shard.Apply(Kv.Put("a", "3"));

        _shard.Dump().Should().Equal("a=3@1/4/3", "other=x@2/2/1");
    }

    [Fact]
    public void A_delete_resets_the_key_so_the_next_put_creates_it_afresh()
    {
        _shard.Apply(Kv.Put("a", "1"));
        _shard.Apply(Kv.Put("a", "2"));
        _shard.Apply(Kv.Delete("a"));

        _shard.Apply(Kv.Put("a", "3"));

        _shard.Dump().Should().Equal("a=3@4/4/1");
    }

    [Fact]
    public void Putting_the_same_value_again_is_still_a_write()
    {
        _shard.Apply(Kv.Put("a", "1"));

        _shard.Apply(Kv.Put("a", "1")).Revision.Should().Be(2);
        _shard.Dump().Should().Equal("a=1@1/2/2");
    }

    [Fact]
    public void Reads_through_the_log_report_the_revision_without_advancing_it()
    {
        _shard.Apply(Kv.Put("a", "1"));

        _shard.Apply(Kv.Get("a")).Revision.Should().Be(1);
        _shard.Apply(Kv.Range("a")).Revision.Should().Be(1);
        _shard.Machine.Revision.Should().Be(1);
        _shard.Machine.AppliedIndex.Should().Be(3);
    }
}
