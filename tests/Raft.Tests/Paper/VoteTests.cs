namespace KvActors.Raft.Tests.Paper;

/// <summary>Figure 2's RequestVote receiver: one vote per term, only for a log at least as up to date (§5.2, §5.4.1).</summary>
public sealed class VoteTests
{
    private static VoteRequest Vote(ulong from, ulong to, ulong term, EntryId lastLog) =>
        new(R(from), R(to), T(term), lastLog, PreVote: false);

    private static VoteResponse SingleVoteAnswer(Ready ready) => ready.Messages.OfType<VoteResponse>().Should().ContainSingle().Subject;

    [Fact]
    public void A_replica_grants_at_most_one_vote_per_term()
    {
        var cluster = new TestCluster(3);

        cluster.Node(3).Step(Vote(from: 1, to: 3, term: 1, E(0, 0)));
        cluster.Node(3).Step(Vote(from: 2, to: 3, term: 1, E(0, 0)));
        Ready ready = cluster.TakeReady(3);

        ready.Messages.OfType<VoteResponse>().Should().HaveCount(2);
        ready.Messages.OfType<VoteResponse>().Single(r => r.To == R(1)).Granted.Should().BeTrue();
        ready.Messages.OfType<VoteResponse>().Single(r => r.To == R(2)).Granted.Should().BeFalse();
        cluster.Status(3).Vote.Should().Be(R(1));
    }

    [Fact]
    public void A_replica_repeats_its_vote_to_the_same_candidate_when_asked_again()
    {
        var cluster = new TestCluster(3);
        cluster.Node(3).Step(Vote(from: 1, to: 3, term: 1, E(0, 0)));
        cluster.ProcessReady(3, send: false);      // the answer was lost

        cluster.Node(3).Step(Vote(from: 1, to: 3, term: 1, E(0, 0)));

        SingleVoteAnswer(cluster.TakeReady(3)).Granted.Should().BeTrue();
    }

    [Fact]
    public void A_follower_of_a_leader_refuses_a_vote_in_that_leaders_term_even_if_it_has_not_voted()
    {
        var cluster = new TestCluster(5);
        cluster.Cut(1, 5);
        Term term = cluster.Elect(1);
        cluster.Heal();
        cluster.TickAll(1);                       // 5 learns of the leader from a heartbeat, without having voted
        cluster.Status(5).Should().Match<RaftStatus>(s => s.Term == term && s.Leader == R(1) && s.Vote == ReplicaId.None);

        cluster.Node(5).Step(Vote(from: 2, to: 5, term: term.Value, cluster.Status(5).LastLog));

        SingleVoteAnswer(cluster.TakeReady(5)).Granted.Should().BeFalse("a second leader in the term would need it");
    }

    /// <summary>The voter's log has terms [1, 1, 2]: it ends at (term 2, index 3).</summary>
    [Theory]
    [InlineData(1, 5, false)]   // lower last term, though longer
    [InlineData(2, 2, false)]   // same last term, shorter
    [InlineData(2, 3, true)]    // identical
    [InlineData(2, 4, true)]    // same last term, longer
    [InlineData(3, 1, true)]    // higher last term, though shorter
    public void A_vote_goes_only_to_a_candidate_whose_log_is_at_least_as_up_to_date(ulong lastTerm, ulong lastIndex, bool granted)
    {
        var cluster = new TestCluster(3, preload: (id, storage) => TestCluster.WriteLog(storage, term: 2, vote: 0, commit: 0, 1, 1, 2));

        cluster.Node(3).Step(Vote(from: 1, to: 3, term: 3, E(lastTerm, lastIndex)));

        SingleVoteAnswer(cluster.TakeReady(3)).Granted.Should().Be(granted, "§5.4.1 compares last terms first, then last indexes");
        cluster.Status(3).Term.Should().Be(T(3), "the higher term is adopted whatever the answer");
        cluster.Status(3).Vote.Should().Be(granted ? R(1) : ReplicaId.None);
    }

    [Fact]
    public void A_granted_vote_and_its_term_are_in_the_same_Ready_as_the_answer_so_they_are_durable_before_it_leaves()
    {
        var cluster = new TestCluster(3);

        cluster.Node(2).Step(Vote(from: 1, to: 2, term: 1, E(0, 0)));
        Ready ready = cluster.TakeReady(2);

        SingleVoteAnswer(ready).Should().Match<VoteResponse>(r => r.Granted && r.Term == T(1));
        ready.HardState.Should().Be(new HardState(T(1), R(1), I(0)));
    }

    [Fact]
    public void A_replica_that_crashes_before_writing_its_vote_comes_back_without_it()
    {
        var cluster = new TestCluster(3);
        cluster.Node(2).Step(Vote(from: 1, to: 2, term: 1, E(0, 0)));
        cluster.TakeReady(2);     // the vote is in memory and in the Ready, not yet on disk; the answer has not left

        cluster.Crash(2);
        cluster.Restart(2);

        cluster.Status(2).Should().Match<RaftStatus>(s => s.Term == T(0) && s.Vote == ReplicaId.None,
            "the vote was lost with the crash, which is safe only because its answer had not left either");
    }

    [Fact]
    public void A_replica_that_restarts_after_writing_its_vote_keeps_it_and_refuses_another_candidate()
    {
        var cluster = new TestCluster(3);
        cluster.Node(2).Step(Vote(from: 1, to: 2, term: 1, E(0, 0)));
        cluster.ProcessReady(2, send: false);

        cluster.Crash(2);
        cluster.Restart(2);
        cluster.Node(2).Step(Vote(from: 3, to: 2, term: 1, E(0, 0)));

        cluster.Status(2).Vote.Should().Be(R(1));
        SingleVoteAnswer(cluster.TakeReady(2)).Granted.Should().BeFalse();
    }

    [Fact]
    public void A_replica_adopts_a_higher_term_in_the_same_step_in_which_it_grants_a_vote()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);

        cluster.Node(2).Step(Vote(from: 3, to: 2, term: term.Value + 1, cluster.Status(2).LastLog));

        cluster.Status(2).Should().Match<RaftStatus>(s => s.Term == term.Next() && s.Vote == R(3) && s.Leader == ReplicaId.None);
        Ready ready = cluster.TakeReady(2);
        ready.HardState!.Value.Term.Should().Be(term.Next());
        SingleVoteAnswer(ready).Should().Match<VoteResponse>(r => r.Granted && r.Term == term.Next());
    }

    [Fact]
    public void A_replica_that_voted_in_a_higher_term_refuses_the_deposed_leaders_appends()
    {
        var cluster = new TestCluster(3);
        Term oldTerm = cluster.Elect(1);
        cluster.Cut(1, 3);
        Term newTerm = cluster.Elect(3);           // 2 votes for 3 in a later term; 1 never hears of it
        cluster.Status(1).Role.Should().Be(Role.Leader, "the deposed leader does not know yet");
        cluster.ClearMessageLog();

        ProposeResult stale = cluster.Propose(1, "lost");
        cluster.Stabilize();
        cluster.TickAll(3);

        stale.IsAccepted.Should().BeTrue();
        stale.Entry.Term.Should().Be(oldTerm);
        newTerm.Should().BeGreaterThan(oldTerm);
        cluster.Status(2).Term.Should().Be(newTerm);
        cluster.Delivered.OfType<AppendResponse>().Should().NotContain(r => r.From == R(2) && r.To == R(1) && r.Success,
            "2 is in a later term: acknowledging the old leader would let it commit");
        cluster.Status(1).Commit.Should().BeLessThan(stale.Entry.Index);
        foreach (ReplicaId id in cluster.Ids)
            cluster.Applied(id.Value).Should().NotContain(e => e.Id == stale.Entry);
    }
}
