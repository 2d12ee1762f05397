namespace KvActors.Raft.Tests.Paper;

/// <summary>Dissertation §9.6: a replica first asks whether it could win, and nobody's term moves until it could.</summary>
public sealed class PreVoteTests
{
    [Fact]
    public void A_pre_candidate_asks_for_the_next_term_without_changing_its_own_term_or_vote()
    {
        var cluster = new TestCluster(3, preVote: true);
        Term term = cluster.Elect(1);
        cluster.Isolate(1);
        ReplicaId vote = cluster.Status(2).Vote;

        cluster.TickUntilCampaign(2);

        cluster.Status(2).Should().Match<RaftStatus>(s => s.Role == Role.PreCandidate && s.Term == term && s.Vote == vote);
        Ready ready = cluster.TakeReady(2);
        ready.HardState.Should().BeNull("a pre-election writes nothing");
        ready.Messages.OfType<VoteRequest>().Should().HaveCount(2)
            .And.OnlyContain(m => m.PreVote && m.Term == term.Next() && m.LastLog == cluster.Status(2).LastLog);
    }

    [Fact]
    public void A_failed_pre_election_changes_no_replicas_term()
    {
        var cluster = new TestCluster(3, preVote: true);
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Propose(1, "x");                  // 3 misses it, so the others will refuse it
        cluster.Stabilize();
        cluster.Heal();

        cluster.Campaign(3);

        cluster.Delivered.OfType<VoteResponse>().Where(r => r.To == R(3))
            .Should().HaveCount(2).And.OnlyContain(r => r.PreVote && !r.Granted);
        cluster.Status(3).Role.Should().Be(Role.Follower);
        foreach (ReplicaId id in cluster.Ids)
            cluster.Status(id.Value).Term.Should().Be(term, $"replica {id} only answered a question about a future term");
        cluster.Leader.Should().Be(R(1));
    }

    [Fact]
    public void A_pre_election_that_would_win_is_followed_by_an_election_in_exactly_the_next_term()
    {
        var cluster = new TestCluster(3, preVote: true);
        Term term = cluster.Elect(1);
        cluster.Crash(1);

        cluster.Campaign(2);

        cluster.Status(2).Role.Should().Be(Role.Leader);
        cluster.Status(2).Term.Should().Be(term.Next());
        cluster.Status(3).Term.Should().Be(term.Next());
    }

    [Fact]
    public void A_replica_back_from_a_partition_does_not_depose_a_leader_that_made_progress_without_it()
    {
        var cluster = new TestCluster(3, preVote: true);
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Propose(1, "x");
        cluster.TickAll(5 * TestCluster.ElectionTimeoutTicks);   // 3 keeps trying pre-elections on its own
        cluster.Status(3).Term.Should().Be(term, "an unanswered pre-election does not bump the term");

        cluster.Heal();
        cluster.TickAll(5 * TestCluster.ElectionTimeoutTicks);

        cluster.Leader.Should().Be(R(1));
        foreach (ReplicaId id in cluster.Ids) cluster.Status(id.Value).Term.Should().Be(term);
        cluster.Status(3).Leader.Should().Be(R(1), "it rejoins as a follower");
    }

    [Fact]
    public void A_replica_back_from_a_partition_does_not_depose_a_leader_even_with_an_equal_log_when_CheckQuorum_is_on()
    {
        var cluster = new TestCluster(3, preVote: true, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.TickAll(5 * TestCluster.ElectionTimeoutTicks);

        cluster.Heal();
        cluster.TickAll(5 * TestCluster.ElectionTimeoutTicks);

        cluster.Leader.Should().Be(R(1));
        foreach (ReplicaId id in cluster.Ids) cluster.Status(id.Value).Term.Should().Be(term);
    }

    [Fact]
    public void A_granted_pre_vote_does_not_change_the_voters_term_or_vote()
    {
        var cluster = new TestCluster(3, preVote: true);
        Term term = cluster.Elect(1);
        RaftStatus before = cluster.Status(2);

        cluster.Node(2).Step(new VoteRequest(R(3), R(2), term.Next(), cluster.Status(2).LastLog, PreVote: true));

        cluster.Status(2).Should().Be(before);
        Ready ready = cluster.TakeReady(2);
        ready.HardState.Should().BeNull();
        ready.Messages.OfType<VoteResponse>().Should().ContainSingle()
            .Which.Should().Match<VoteResponse>(r => r.PreVote && r.Granted && r.Term == term.Next());
    }

    [Fact]
    public void A_pre_candidate_behind_the_voters_term_is_refused_at_the_voters_term_and_catches_up()
    {
        var cluster = new TestCluster(3, preVote: true, preload: (id, storage) =>
            TestCluster.WriteLog(storage, term: id == R(3) ? 1UL : 5UL, vote: 0, commit: 0));

        cluster.Campaign(3);

        cluster.Delivered.OfType<VoteResponse>().Where(r => r.To == R(3)).Should().OnlyContain(r => !r.Granted && r.Term == T(5));
        cluster.Status(3).Term.Should().Be(T(5));
        cluster.Status(3).Role.Should().Be(Role.Follower);
    }
}
