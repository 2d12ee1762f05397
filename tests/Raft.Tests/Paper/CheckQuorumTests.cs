namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// Dissertation §6.2 and §4.2.3: a leader that cannot reach a quorum steps down, and a replica that heard from a
/// leader within the election timeout does not help anyone depose it.
/// </summary>
public sealed class CheckQuorumTests
{
    private const int Et = TestCluster.ElectionTimeoutTicks;

    [Fact]
    public void A_leader_steps_down_when_a_quorum_is_silent_for_an_election_timeout()
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.Isolate(1);

        cluster.TickAll(Et - 1);
        cluster.Status(1).Role.Should().Be(Role.Leader, "less than an election timeout has passed");

        cluster.TickAll(Et + 1);
        cluster.Status(1).Should().Match<RaftStatus>(s => s.Role == Role.Follower && s.Term == term && s.Leader == ReplicaId.None);
    }

    [Fact]
    public void A_leader_that_hears_from_a_quorum_stays_leader()
    {
        var cluster = new TestCluster(5, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.Isolate(4);
        cluster.Isolate(5);

        cluster.TickAll(10 * Et);

        cluster.Status(1).Should().Match<RaftStatus>(s => s.Role == Role.Leader && s.Term == term);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_follower_that_heard_from_its_leader_within_the_timeout_ignores_a_higher_term_vote_request(bool preVote)
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.TickAll(1);

        cluster.Node(2).Step(new VoteRequest(R(3), R(2), term.Next(), E(term.Value + 1, 100), preVote));

        cluster.Status(2).Should().Match<RaftStatus>(s => s.Term == term && s.Leader == R(1) && s.Vote == R(1));
        cluster.Node(2).HasReady().Should().BeFalse("it neither adopts the term nor answers");
    }

    [Fact]
    public void Followers_of_a_silent_leader_elect_a_new_one_once_their_lease_has_expired()
    {
        var cluster = new TestCluster(3, preVote: true, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.Crash(1);

        ReplicaId leader = cluster.TickUntilLeader();

        leader.Should().NotBe(R(1));
        cluster.Status(leader.Value).Term.Should().Be(term.Next());
    }

    [Fact]
    public void An_isolated_leaders_pending_read_is_aborted_when_it_steps_down_and_never_answered()
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        cluster.Elect(1);
        cluster.TickAll(1);
        cluster.Isolate(1);

        cluster.Node(1).ReadIndex(new ReadContext(42)).IsAccepted.Should().BeTrue();
        cluster.TickAll(3 * Et);

        cluster.Status(1).Role.Should().Be(Role.Follower);
        cluster.AbortedReads(1).Should().Equal(new ReadContext(42));
        cluster.ReadStates(1).Should().BeEmpty("a leader cut off from the quorum may be stale: its read index proves nothing");
    }

    [Fact]
    public void A_replica_stranded_at_a_higher_term_without_PreVote_is_answered_and_the_cluster_reelects_and_takes_it_back()
    {
        // PreVote and CheckQuorum on, but replica 3 campaigns without PreVote (an older version, say).
        var cluster = new TestCluster(3, preVote: true, checkQuorum: true,
            configure: c => c.Id == R(3) ? c with { PreVote = false } : c);
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.TickAll(5 * Et);
        cluster.Status(3).Term.Should().BeGreaterThan(term, "alone, it campaigned in ever higher terms");

        cluster.Heal();

        RequireReelectedWithEveryone(cluster, above: cluster.Status(3).Term);
    }

    [Fact]
    public void A_replica_stranded_at_a_higher_term_with_PreVote_is_answered_and_the_cluster_reelects_and_takes_it_back()
    {
        var cluster = new TestCluster(3, preVote: true, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Tick(3, 2 * Et);                   // its lease on leader 1 expires; its pre-votes go unanswered
        // Then it sees a higher term (a message from a replica since removed, say).
        cluster.Node(3).Step(new VoteRequest(R(9), R(3), T(term.Value + 5), E(0, 0), PreVote: false));
        cluster.Stabilize();
        cluster.Status(3).Term.Should().Be(T(term.Value + 5));

        cluster.Heal();

        RequireReelectedWithEveryone(cluster, above: T(term.Value + 5));
    }

    /// <summary>
    /// Without the stale-term answer the others would ignore the stranded replica's (pre-)votes forever, because they
    /// are in the lease of a leader the stranded replica ignores for being stale: it could never rejoin.
    /// </summary>
    private static void RequireReelectedWithEveryone(TestCluster cluster, Term above)
    {
        for (int t = 0; t < 20 * Et; t++)
        {
            ReplicaId leader = cluster.Leader;
            if (leader.IsSome && cluster.Ids.All(id => cluster.Status(id.Value).Term == cluster.Status(leader.Value).Term
                                                       && cluster.Status(id.Value).Leader == leader))
                break;
            cluster.TickAll(1);
        }
        ReplicaId newLeader = cluster.Leader;
        newLeader.IsSome.Should().BeTrue("the cluster must not stay blocked");
        cluster.Status(newLeader.Value).Term.Should().BeGreaterThanOrEqualTo(above);
        foreach (ReplicaId id in cluster.Ids)
        {
            cluster.Status(id.Value).Term.Should().Be(cluster.Status(newLeader.Value).Term);
            cluster.Status(id.Value).Leader.Should().Be(newLeader);
        }

        ProposeResult after = cluster.Propose(newLeader.Value, "after");
        cluster.Stabilize();
        cluster.TickAll(2);
        foreach (ReplicaId id in cluster.Ids)
            cluster.Applied(id.Value).Should().Contain(e => e.Id == after.Entry, $"replica {id} is back in the cluster");
    }
}
