using KvActors.Node.StateMachine;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

public sealed class SnapshotTests
{
    private static Shard Populated()
    {
        var shard = new Shard();
        shard.Apply(Kv.Put("a", "1").InSession(1, 1));
        shard.Apply(Kv.Put("b", "2"));
        shard.Apply(Kv.Put("a", "3").InSession(1, 2));
        shard.Apply(Kv.Delete("b"));
        shard.Apply(Kv.CasAbsent("c", "4").InSession(2, 1));
        shard.NoOp();
        return shard;
    }

    [Fact]
    public void A_restored_state_machine_has_the_same_keys_revision_applied_index_and_sessions()
    {
        Shard shard = Populated();
        var restored = new Shard(KvStateMachine.Restore(shard.Snapshot(), StateMachineSettings.Default));

        restored.Snapshot().Should().Equal(shard.Snapshot());
        restored.Dump().Should().Equal("a=3@1/3/2", "c=4@5/5/1");
        restored.Machine.Revision.Should().Be(5);
        restored.Machine.AppliedIndex.Should().Be(6);
        restored.Machine.SessionCount.Should().Be(2);
        restored.Apply(Kv.Put("a", "3").InSession(1, 2)).Revision.Should().Be(3, "the retry gets the cached reply");
    }

    [Fact]
    public void An_empty_state_machine_round_trips()
    {
        var empty = new KvStateMachine(StateMachineSettings.Default);

        KvStateMachine restored = KvStateMachine.Restore(empty.TakeSnapshot(), StateMachineSettings.Default);

        restored.TakeSnapshot().Should().Equal(empty.TakeSnapshot());
        restored.AppliedIndex.Should().Be(0);
    }

    [Fact]
    public void A_restored_state_machine_continues_at_the_next_log_index()
    {
        Shard shard = Populated();
        KvStateMachine restored = KvStateMachine.Restore(shard.Snapshot(), StateMachineSettings.Default);

        Action stale = () => restored.AdvanceIndex(6);

        stale.Should().Throw<InvalidOperationException>();
        restored.AdvanceIndex(7);
    }

    [Fact]
    public void Every_flipped_bit_is_caught_by_the_checksum_or_the_format_checks()
    {
        byte[] image = Populated().Snapshot();
        for (int i = 0; i < image.Length; i++)
        {
            byte[] corrupt = (byte[])image.Clone();
            corrupt[i] ^= 0x10;

            Action restore = () => KvStateMachine.Restore(corrupt, StateMachineSettings.Default);

            restore.Should().Throw<InvalidDataException>("byte {0} was flipped", i);
        }
    }

    [Fact]
    public void A_flipped_byte_in_the_body_is_reported_as_a_checksum_mismatch()
    {
        byte[] image = Populated().Snapshot();
        image[30] ^= 1;

        Action restore = () => KvStateMachine.Restore(image, StateMachineSettings.Default);

        restore.Should().Throw<InvalidDataException>().WithMessage("the state machine snapshot is corrupt: its checksum is *");
    }

    [Fact]
    public void A_truncated_image_is_refused()
    {
        byte[] image = Populated().Snapshot();

        foreach (int length in new[] { 0, 5, 28, image.Length / 2, image.Length - 1 })
        {
            Action restore = () => KvStateMachine.Restore(image.AsSpan(0, length), StateMachineSettings.Default);
            restore.Should().Throw<InvalidDataException>("{0} of {1} bytes", length, image.Length);
        }
    }

    [Fact]
    public void An_image_of_an_unknown_format_version_is_refused_by_name()
    {
        byte[] image = Populated().Snapshot();
        image[4] = 9;

        Action restore = () => KvStateMachine.Restore(image, StateMachineSettings.Default);

        restore.Should().Throw<InvalidDataException>().WithMessage("state machine snapshot format version 9 is not supported; this node reads version 1");
    }

    [Fact]
    public void Restoring_with_fewer_sessions_allowed_keeps_the_most_recent_ones()
    {
        Shard shard = Populated();

        KvStateMachine restored = KvStateMachine.Restore(shard.Snapshot(), new StateMachineSettings { MaxSessions = 1 });
        var restoredShard = new Shard(restored);

        restored.SessionCount.Should().Be(1);
        restoredShard.Apply(Kv.Put("a", "9").InSession(1, 3)).Message.Should().StartWith("session expired");
        restoredShard.Apply(Kv.CasAbsent("c", "4").InSession(2, 1)).Error.Should().Be(ErrorCode.Ok, "client 2 was the most recent");
    }
}
