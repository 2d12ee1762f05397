namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// The shell contract in <see cref="Ready"/>: write, then send, then apply, then advance; one Ready at a time; and
/// nothing the core promises in a message may depend on what the shell has not yet written.
/// </summary>
public sealed class ReadyContractTests
{
    [Fact]
    public void Taking_a_second_Ready_before_advancing_the_first_throws()
    {
        var cluster = new TestCluster(3);
        cluster.TickUntilCampaign(1);
        cluster.TakeReady(1);

        Action second = () => cluster.Node(1).Ready();

        second.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void There_is_no_Ready_while_one_is_outstanding_and_its_work_waits_for_the_next()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        Ready first = cluster.TakeReady(1);   // nothing pending: an empty Ready
        ProposeResult x = cluster.Propose(1, "x");

        cluster.Node(1).HasReady().Should().BeFalse("at most one Ready is outstanding");
        cluster.Complete(1, first);

        cluster.Node(1).HasReady().Should().BeTrue();
        cluster.TakeReady(1).Entries.Should().ContainSingle().Which.Id.Should().Be(x.Entry);
    }

    [Fact]
    public void Advancing_with_a_Ready_that_is_not_the_outstanding_one_throws()
    {
        var cluster = new TestCluster(3);
        cluster.TickUntilCampaign(1);
        Ready old = cluster.ProcessReady(1);
        cluster.Node(1).Step(new VoteResponse(R(2), R(1), cluster.Status(1).Term, PreVote: false, Granted: true));
        cluster.TakeReady(1);

        Action advanceOld = () => cluster.Node(1).Advance(old);
        Action advanceAnother = () => cluster.Node(1).Advance(cluster.TakeReady(2));

        advanceOld.Should().Throw<InvalidOperationException>();
        advanceAnother.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void A_leader_does_not_count_itself_toward_commit_until_it_has_written_the_entry()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.TickAll(1);
        ProposeResult x = cluster.Propose(1, "x");

        // The leader sends its appends while its own write is still in flight (§10.2.1, as etcd does).
        Ready unwritten = cluster.TakeReady(1);
        unwritten.Entries.Should().ContainSingle().Which.Id.Should().Be(x.Entry);
        unwritten.MessagesBeforeWrite.OfType<AppendRequest>().Should().HaveCount(2, "a leader's appends may leave before its write");
        unwritten.Messages.OfType<AppendRequest>().Should().BeEmpty();
        foreach (RaftMessage m in unwritten.MessagesBeforeWrite) cluster.Send(m);
        cluster.Cut(1, 3);
        cluster.Stabilize();                    // 2 writes x and acknowledges it; the leader has not written it

        cluster.Delivered.OfType<AppendResponse>().Should().Contain(r => r.From == R(2) && r.Success && r.Index == x.Entry.Index);
        cluster.Status(1).Commit.Should().BeLessThan(x.Entry.Index, "only 2 of 3 hold x durably if the leader's own write has not finished");

        cluster.Complete(1, unwritten, send: false);

        cluster.Status(1).Commit.Should().Be(x.Entry.Index, "now the leader and 2 are a majority");
        term.Should().Be(x.Entry.Term);
    }

    [Fact]
    public void Nothing_leaves_before_the_write_that_promises_a_new_term_or_vote()
    {
        var cluster = new TestCluster(3);
        cluster.TickUntilCampaign(1);
        Ready campaign = cluster.TakeReady(1);
        campaign.Messages.OfType<VoteRequest>().Should().HaveCount(2);
        campaign.MessagesBeforeWrite.Should().BeEmpty("vote requests promise the candidate's durable term and vote");
        cluster.Complete(1, campaign);

        cluster.Node(2).Step(TestCluster.Append(from: 1, to: 2, term: 5, E(0, 0), commit: 0, 5));
        Ready follower = cluster.TakeReady(2);
        follower.Messages.OfType<AppendResponse>().Should().ContainSingle();
        follower.MessagesBeforeWrite.Should().BeEmpty("a follower's acknowledgement promises what it writes");
    }

    [Fact]
    public void A_leader_that_steps_down_in_a_Ready_sends_nothing_before_its_write()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.TickAll(1);
        cluster.Propose(1, "x");

        cluster.Node(1).Step(new VoteRequest(R(3), R(1), T(9), E(9, 9), PreVote: false));
        Ready ready = cluster.TakeReady(1);

        cluster.Status(1).Role.Should().Be(Role.Follower);
        ready.HardState!.Value.Term.Should().Be(T(9));
        ready.MessagesBeforeWrite.Should().BeEmpty("the new term must be durable before anything at it leaves");
    }

    [Fact]
    public void A_follower_acknowledges_entries_in_the_same_Ready_that_asks_to_write_them()
    {
        var cluster = new TestCluster(3);

        cluster.Node(2).Step(TestCluster.Append(from: 1, to: 2, term: 1, E(0, 0), commit: 0, 1, 1));
        Ready ready = cluster.TakeReady(2);

        ready.Entries.Select(e => e.Id).Should().Equal(E(1, 1), E(1, 2));
        ready.Messages.OfType<AppendResponse>().Should().ContainSingle()
            .Which.Should().Match<AppendResponse>(r => r.Success && r.Index == I(2));
        ready.HardState.Should().Be(new HardState(T(1), ReplicaId.None, I(0)), "the leader's term is written with them");
    }

    [Fact]
    public void A_follower_that_crashes_before_writing_an_append_has_not_acknowledged_it()
    {
        var cluster = new TestCluster(3);
        cluster.Node(2).Step(TestCluster.Append(from: 1, to: 2, term: 1, E(0, 0), commit: 0, 1, 1));
        cluster.TakeReady(2);

        cluster.Crash(2);
        cluster.Restart(2);

        cluster.Status(2).LastLog.Should().Be(E(0, 0));
        cluster.Node(2).Step(TestCluster.Append(from: 1, to: 2, term: 1, E(1, 2), commit: 0, 1));
        cluster.TakeReady(2).Messages.OfType<AppendResponse>().Should().ContainSingle()
            .Which.Success.Should().BeFalse("it holds nothing, so it cannot match the leader's index 2");
    }

    [Fact]
    public void Committed_entries_are_handed_out_once_in_order_and_not_again_after_Advance()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.Propose(1, "b");
        cluster.Stabilize();

        cluster.Applied(1).Select(e => e.Index).Should().Equal(I(1), I(2), I(3));
        cluster.Node(1).HasReady().Should().BeFalse("everything committed was handed out and advanced");
        cluster.Applied(1).Skip(1).Select(TestCluster.CommandOf).Should().Equal("a", "b");
    }

    [Fact]
    public void A_restarted_replica_resumes_from_what_it_wrote_and_does_not_reapply_what_its_state_machine_has()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.Stabilize();
        cluster.TickAll(1);
        RaftStatus before = cluster.Status(3);

        cluster.Crash(3);
        cluster.Restart(3);

        cluster.Status(3).Should().Match<RaftStatus>(s =>
            s.Term == term && s.Vote == R(1) && s.Commit == before.Commit && s.LastLog == before.LastLog && s.Role == Role.Follower);
        cluster.Node(3).HasReady().Should().BeFalse("its state machine already applied everything committed");
    }

    [Fact]
    public void A_restarted_replica_whose_state_machine_starts_empty_gets_every_committed_entry_again()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.Stabilize();
        cluster.TickAll(1);
        LogIndex commit = cluster.Status(3).Commit;

        var restarted = new RaftNode(new RaftConfig { Id = R(3), PreVote = false, CheckQuorum = false }, cluster.Storage(3));

        restarted.Ready().CommittedEntries.Select(e => e.Index.Value).Should().Equal(Enumerable.Range(1, (int)commit.Value).Select(i => (ulong)i));
    }

    [Fact]
    public void What_a_Ready_wrote_before_a_conflict_that_replaced_its_tail_is_not_written_again()
    {
        var storage = new MemoryRaftStorage(Membership.Of(R(1), R(2), R(3)));
        var follower = new RaftNode(new RaftConfig { Id = R(1), RandomSeed = 1 }, storage);
        static Entry Command(ulong term, ulong index) => new(E(term, index), EntryKind.Command, new byte[] { 1 });
        follower.Step(new AppendRequest(R(2), R(1), T(1), E(0, 0), [Command(1, 1), Command(1, 2), Command(1, 3)], I(0)));
        Ready writing = follower.Ready();
        writing.Entries.Select(e => e.Id).Should().Equal(E(1, 1), E(1, 2), E(1, 3));

        // While 1..3 are being written, a leader of term 2 replaces everything after index 1.
        follower.Step(new AppendRequest(R(3), R(1), T(2), E(1, 1), [Command(2, 2)], I(0)));
        if (writing.HardState is { } hardState) storage.SetHardState(hardState);
        storage.Append(writing.Entries);
        follower.Advance(writing);

        Ready next = follower.Ready();
        next.Entries.Select(e => e.Id).Should().Equal([E(2, 2)],
            "entry 1 is durable and still this log's: writing it again could rewrite an entry the shell has compacted");
    }
}
