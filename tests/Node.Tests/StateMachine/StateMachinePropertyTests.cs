using FsCheck.Xunit;
using KvActors.Node.StateMachine;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>
/// Random scripts of commands, retries, no-ops, garbage and reads (<see cref="KvGenerators"/>) against the
/// reference model and against the state machine itself: restored, replayed, duplicated.
/// </summary>
public sealed class StateMachinePropertyTests
{
    [Property(Arbitrary = [typeof(KvGenerators)], MaxTest = 300, EndSize = 120)]
    public void Random_scripts_give_the_model_s_replies_and_final_state(Step[] steps)
    {
        LogScript script = LogScript.From(steps);
        var machine = new KvStateMachine(LogScript.Settings);
        var model = new ReferenceModel(LogScript.Settings);

        List<KvReply> actual = script.Run(machine);
        List<KvReply> expected = script.Run(model);

        for (int i = 0; i < expected.Count; i++)
            Normalized(actual[i]).Should().Be(expected[i], "reply {0} of the script differs from the model's", i);
        new Shard(machine).Dump().Should().Equal(model.Dump());
        machine.Revision.Should().Be(model.Revision);
        machine.AppliedIndex.Should().Be(model.AppliedIndex);
        machine.SessionCount.Should().Be(model.SessionCount);
    }

    [Property(Arbitrary = [typeof(KvGenerators)], MaxTest = 200, EndSize = 120)]
    public void A_restored_snapshot_holds_the_same_state_and_answers_the_rest_of_the_log_the_same(Step[] steps, int cut)
    {
        LogScript script = LogScript.From(steps);
        int prefix = script.Entries.Count == 0 ? 0 : Math.Abs(cut % (script.Entries.Count + 1));
        var original = new KvStateMachine(LogScript.Settings);
        script.Run(original, 0, prefix);

        byte[] image = original.TakeSnapshot();
        KvStateMachine restored = KvStateMachine.Restore(image, LogScript.Settings);
        restored.TakeSnapshot().Should().Equal(image, "a restored state machine writes the image it was restored from");

        List<KvReply> fromOriginal = script.Run(original, prefix);
        List<KvReply> fromRestored = script.Run(restored, prefix);
        fromRestored.Should().Equal(fromOriginal);
        restored.TakeSnapshot().Should().Equal(original.TakeSnapshot());
    }

    [Property(Arbitrary = [typeof(KvGenerators)], MaxTest = 200, EndSize = 120)]
    public void Replicas_that_apply_the_same_log_write_byte_identical_snapshots_however_often_they_restarted(Step[] steps)
    {
        LogScript script = LogScript.From(steps);
        var steady = new KvStateMachine(LogScript.Settings);
        script.Run(steady);

        // The other replica restarts from its own snapshot every few entries: a fresh map, session table and
        // dictionary each time, so any dependence on history or hash order would show in the bytes.
        var restarting = new KvStateMachine(LogScript.Settings);
        for (int start = 0; start < script.Entries.Count; start += 7)
        {
            script.Run(restarting, start, Math.Min(start + 7, script.Entries.Count));
            restarting = KvStateMachine.Restore(restarting.TakeSnapshot(), LogScript.Settings);
        }

        restarting.TakeSnapshot().Should().Equal(steady.TakeSnapshot());
    }

    [Property(Arbitrary = [typeof(KvGenerators)], MaxTest = 200, EndSize = 120)]
    public void A_duplicated_session_command_applies_once_and_gets_the_first_reply_again(Step[] steps, byte client)
    {
        LogScript script = LogScript.From(steps);
        var shard = new Shard(LogScript.Settings);
        script.Run(shard.Machine);

        // A client id the script never uses, so its first request opens a session.
        KvRequest put = Kv.Put("dup", "once").InSession((byte)(100 + client % 100), 1);
        KvReply first = shard.Apply(put);
        ulong revision = shard.Machine.Revision;
        List<string> state = shard.Dump();

        KvReply again = shard.Apply(put);

        again.Should().Be(first);
        shard.Machine.Revision.Should().Be(revision);
        shard.Dump().Should().Equal(state);
    }

    [Property(Arbitrary = [typeof(KvGenerators)], MaxTest = 100)]
    public void Garbage_in_the_log_never_throws_and_changes_nothing_unless_it_parses_as_a_valid_command(byte[] garbage, Step[] steps)
    {
        var shard = new Shard(LogScript.Settings);
        LogScript.From(steps).Run(shard.Machine);
        ulong revision = shard.Machine.Revision;
        List<string> state = shard.Dump();

        KvReply reply = shard.Apply(garbage);

        if (reply.Error != ErrorCode.Ok && reply.Error != ErrorCode.Conflict)
        {
            reply.Message.Should().NotBeEmpty();
            shard.Machine.Revision.Should().Be(revision);
            shard.Dump().Should().Equal(state);
        }
    }

    // Messages are not modelled; check that one is present exactly when the reply is an error, then drop it.
    private static KvReply Normalized(KvReply reply)
    {
        (reply.Message.Length > 0).Should().Be(reply.Error != ErrorCode.Ok, "a reply has a message exactly when it is an error: {0}", reply);
        reply.Message.Should().NotContain("\n");
        KvReply copy = reply.Clone();
        copy.Message = "";
        return copy;
    }
}
