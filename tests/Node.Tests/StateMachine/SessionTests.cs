using KvActors.Node.StateMachine;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>At-most-once through client sessions, and their deterministic eviction.</summary>
public sealed class SessionTests
{
    private const byte A = 1, B = 2, C = 3;

    [Fact]
    public void A_retried_request_is_applied_once_and_gets_the_first_reply_again()
    {
        var shard = new Shard();
        shard.Apply(Kv.Put("n", "0"));
        KvRequest bump = Kv.Txn([], [Kv.OpPut("n", "1")]).InSession(A, 1);

        KvReply first = shard.Apply(bump);
        KvReply retry = shard.Apply(bump);

        retry.Should().Be(first);
        shard.Dump().Should().Equal("n=1@1/2/2");
        shard.Machine.Revision.Should().Be(2);
    }

    [Fact]
    public void A_retry_of_a_failed_compare_and_swap_gets_the_same_conflict_even_after_the_key_changed()
    {
        var shard = new Shard();
        shard.Apply(Kv.Put("k", "1"));
        KvRequest cas = Kv.CasValue("k", "0", "2").InSession(A, 1);
        KvReply first = shard.Apply(cas);
        shard.Apply(Kv.Put("k", "0"));

        KvReply retry = shard.Apply(cas);

        retry.Should().Be(first);
        retry.Error.Should().Be(ErrorCode.Conflict);
        shard.Dump().Should().Equal("k=0@1/2/2");
    }

    [Fact]
    public void A_reply_handed_out_can_be_changed_by_the_caller_without_changing_what_a_retry_gets()
    {
        var shard = new Shard();
        KvRequest put = Kv.Put("a", "1").InSession(A, 1);
        KvReply first = shard.Apply(put);
        KvReply pristine = first.Clone();

        first.LeaderReplica = 42;

        shard.Apply(put).Should().Be(pristine);
    }

    [Fact]
    public void A_sequence_older_than_the_last_applied_one_is_refused_as_superseded()
    {
        var shard = new Shard();
        shard.Apply(Kv.Put("a", "1").InSession(A, 1));
        shard.Apply(Kv.Put("a", "2").InSession(A, 2));

        KvReply stale = shard.Apply(Kv.Put("a", "1").InSession(A, 1));

        stale.Error.Should().Be(ErrorCode.InvalidArgument);
        stale.Message.Should().StartWith("sequence 1 was already superseded");
        shard.Dump().Should().Equal("a=2@1/2/2");
    }

    [Fact]
    public void Sequences_may_skip_numbers()
    {
        var shard = new Shard();
        shard.Apply(Kv.Put("a", "1").InSession(A, 1));

        shard.Apply(Kv.Put("a", "2").InSession(A, 5)).Error.Should().Be(ErrorCode.Ok);
        shard.Apply(Kv.Put("a", "3").InSession(A, 4)).Error.Should().Be(ErrorCode.InvalidArgument);
    }

    [Fact]
    public void A_client_without_a_session_must_open_one_at_sequence_one()
    {
        var shard = new Shard();

        KvReply reply = shard.Apply(Kv.Put("a", "1").InSession(A, 7));

        reply.Error.Should().Be(ErrorCode.InvalidArgument);
        reply.Message.Should().StartWith("session expired");
        shard.Dump().Should().BeEmpty();
        shard.Machine.SessionCount.Should().Be(0);
    }

    [Fact]
    public void The_least_recently_active_session_is_evicted_and_its_retry_is_refused_not_applied_twice()
    {
        var shard = new Shard(new StateMachineSettings { MaxSessions = 2 });
        KvRequest a2 = Kv.Put("a", "2").InSession(A, 2);
        shard.Apply(Kv.Put("a", "1").InSession(A, 1));
        shard.Apply(Kv.Put("b", "1").InSession(B, 1));
        shard.Apply(a2);                                     // A is now more recent than B

        shard.Apply(Kv.Put("c", "1").InSession(C, 1));       // evicts B, not A

        shard.Machine.SessionCount.Should().Be(2);
        shard.Apply(a2).Error.Should().Be(ErrorCode.Ok, "A's session survived, so its retry gets the cached reply");
        KvReply evicted = shard.Apply(Kv.Put("b", "2").InSession(B, 2));
        evicted.Error.Should().Be(ErrorCode.InvalidArgument);
        evicted.Message.Should().StartWith("session expired");
        shard.Dump().Should().Equal("a=2@1/3/2", "b=1@2/2/1", "c=1@4/4/1");
    }

    [Fact]
    public void Eviction_picks_the_same_session_after_a_restart_from_a_snapshot()
    {
        var settings = new StateMachineSettings { MaxSessions = 2 };
        var steady = new Shard(settings);
        var restarted = new Shard(settings);
        KvRequest[] log =
        [
            Kv.Put("a", "1").InSession(B, 1), Kv.Put("a", "2").InSession(A, 1), Kv.Put("a", "3").InSession(B, 2),
        ];
        foreach (KvRequest request in log)
        {
            steady.Apply(request);
            restarted.Apply(request);
        }
        restarted.RestartFromSnapshot(settings);

        steady.Apply(Kv.Put("c", "1").InSession(C, 1));
        restarted.Apply(Kv.Put("c", "1").InSession(C, 1));

        steady.Apply(Kv.Put("x", "1").InSession(A, 2)).Message.Should().StartWith("session expired");
        restarted.Apply(Kv.Put("x", "1").InSession(A, 2)).Message.Should().StartWith("session expired");
        restarted.Snapshot().Should().Equal(steady.Snapshot());
    }

    [Fact]
    public void Refused_requests_do_not_open_or_advance_sessions()
    {
        var shard = new Shard();

        shard.Apply(Kv.Put("", "empty key").InSession(B, 1));

        shard.Machine.SessionCount.Should().Be(0);
        shard.Apply(Kv.Put("b", "1").InSession(B, 1)).Error.Should().Be(ErrorCode.Ok);
    }

    [Fact]
    public void A_read_through_the_log_counts_in_its_session_so_reads_and_writes_share_one_numbering()
    {
        var shard = new Shard();
        KvRequest get = Kv.Get("a").InSession(A, 1);
        KvReply first = shard.Apply(get);
        shard.Apply(Kv.Put("a", "1"));

        shard.Apply(get).Should().Be(first, "a duplicate read gets the reply of its first copy");
        shard.Apply(Kv.Put("a", "2").InSession(A, 2)).Error.Should().Be(ErrorCode.Ok);
    }

    [Fact]
    public void Reads_outside_the_log_do_not_touch_sessions()
    {
        var shard = new Shard();

        shard.Read(Kv.Get("a").InSession(A, 1));

        shard.Machine.SessionCount.Should().Be(0);
    }

    [Fact]
    public void Requests_without_a_client_id_are_applied_every_time()
    {
        var shard = new Shard();

        shard.Apply(Kv.Put("a", "1"));
        shard.Apply(Kv.Put("a", "1"));

        shard.Dump().Should().Equal("a=1@1/2/2");
    }
}
