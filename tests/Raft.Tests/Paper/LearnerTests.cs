using static KvActors.Raft.Tests.Harness.MembershipSteps;

namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// Dissertation §4.2.1: a new replica first joins as a learner (non-voting member) that receives the log but neither
/// votes nor counts toward a quorum, and becomes a voter only once it has caught up — through a joint configuration.
/// </summary>
public sealed class LearnerTests
{
    private const int Et = TestCluster.ElectionTimeoutTicks;

    /// <summary>Voters 1, 2, 3 led by 1, and brand-new replica 4 added as a learner and caught up.</summary>
    private static TestCluster WithLearner(Func<RaftConfig, RaftConfig>? configure = null, bool preVote = false)
    {
        var cluster = new TestCluster(3, preVote: preVote, configure: configure);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);
        return cluster;
    }

    [Fact]
    public void A_learner_with_an_empty_disk_receives_and_applies_the_whole_log_and_learns_its_configuration()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        ProposeResult before = cluster.Propose(1, "before");
        cluster.Stabilize();

        cluster.AddLearner(leader: 1, learner: 4);
        ProposeResult after = cluster.Propose(1, "after");
        cluster.Stabilize();
        cluster.TickAll(1);

        cluster.Node(4).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]));
        cluster.Applied(4).Select(e => e.Id).Should().Contain([before.Entry, after.Entry]);
        cluster.Applied(4).Should().HaveSameCount(cluster.Applied(1));
        cluster.Applied(4).Zip(cluster.Applied(1)).Should().OnlyContain(pair => pair.First.SameAs(pair.Second));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_learner_never_campaigns_even_when_it_hears_from_no_leader(bool preVote)
    {
        var cluster = WithLearner(preVote: preVote);
        Term term = cluster.Status(4).Term;
        cluster.Isolate(4);
        cluster.ClearMessageLog();

        cluster.TickAll(10 * Et);

        cluster.Sent.OfType<VoteRequest>().Where(v => v.From == R(4)).Should().BeEmpty();
        cluster.Status(4).Should().Match<RaftStatus>(s => s.Role == Role.Follower && s.Term == term);
    }

    [Fact]
    public void An_entry_acknowledged_by_the_leader_and_a_learner_only_is_not_committed()
    {
        var cluster = WithLearner();
        cluster.Isolate(2);
        cluster.Isolate(3);

        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();

        cluster.Storage(4).LastIndex().Should().Be(x.Entry.Index, "the learner stored it and acknowledged it");
        cluster.Status(1).Commit.Should().BeLessThan(x.Entry.Index, "two of four members hold it, but only one of three voters");

        cluster.Heal();
        cluster.TickAll(1);
        cluster.Status(1).Commit.Should().BeGreaterThanOrEqualTo(x.Entry.Index);
    }

    [Fact]
    public void Entries_commit_without_the_learner()
    {
        var cluster = WithLearner();
        cluster.Isolate(4);

        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();
        cluster.TickAll(1);

        foreach (ulong voter in new ulong[] { 1, 2, 3 })
            cluster.Applied(voter).Should().Contain(e => e.Id == x.Entry, $"voter {voter} applies it");
        cluster.Applied(4).Should().NotContain(e => e.Id == x.Entry);
    }

    [Fact]
    public void A_candidate_is_not_asked_for_nor_elected_by_a_learners_vote()
    {
        var cluster = WithLearner();
        cluster.Cut(2, 1);
        cluster.Cut(2, 3);
        cluster.ClearMessageLog();

        cluster.Campaign(2);
        Term term = cluster.Status(2).Term;
        cluster.Node(2).Step(new VoteResponse(R(4), R(2), term, PreVote: false, Granted: true));
        cluster.Stabilize();

        cluster.Sent.OfType<VoteRequest>().Should().NotContain(v => v.To == R(4), "a learner is not a voter");
        cluster.Status(2).Role.Should().Be(Role.Candidate, "its own vote and a learner's are not two of three voters");
    }

    [Fact]
    public void Promoting_a_caught_up_learner_goes_through_a_joint_configuration_that_the_leader_then_leaves_by_itself()
    {
        var cluster = WithLearner();

        ProposeResult promote = cluster.Node(1).ProposeConfigChange(ConfigChange.Promote(R(4)));

        promote.Status.Should().Be(RequestStatus.Accepted);
        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2, 3, 4], outgoing: [1, 2, 3]), "in force once appended");
        cluster.Stabilize();
        cluster.TickAll(1);

        var configs = cluster.StoredConfigs(1);
        configs.Select(c => c.Membership).Should().Equal(
            Config(voters: [1, 2, 3], learners: [4]),
            Config(voters: [1, 2, 3, 4], outgoing: [1, 2, 3]),
            Config(voters: [1, 2, 3, 4]));
        configs[1].Index.Should().Be(promote.Entry.Index);
        foreach (ulong id in new ulong[] { 1, 2, 3, 4 })
        {
            cluster.Node(id).Membership.Should().Be(Config(voters: [1, 2, 3, 4]), $"replica {id} left the joint configuration");
            cluster.Status(id).Commit.Should().BeGreaterThanOrEqualTo(configs[2].Index);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Making_a_learner_that_is_far_behind_a_voter_is_refused_with_LearnerBehind_until_it_catches_up(bool replace)
    {
        var cluster = WithLearner(c => c with { MaxLearnerLagEntries = 2 });
        cluster.Isolate(4);
        for (int i = 0; i < 5; i++) cluster.Propose(1, $"c{i}");
        cluster.Stabilize();
        ConfigChange change = replace ? ConfigChange.Replace(R(3), R(4)) : ConfigChange.Promote(R(4));

        ProposeResult refused = cluster.Node(1).ProposeConfigChange(change);

        refused.Status.Should().Be(RequestStatus.LearnerBehind);
        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]), "nothing was appended");

        cluster.Heal();
        cluster.TickAll(2);
        cluster.Node(1).ProposeConfigChange(change).Status.Should().Be(RequestStatus.Accepted);
    }

    [Fact]
    public void A_replica_promoted_by_entries_it_has_not_received_yet_still_votes_when_a_candidate_asks()
    {
        var cluster = WithLearner();
        cluster.Cut(1, 4);                                   // 4 never hears of its promotion
        cluster.ChangeMembership(1, ConfigChange.Promote(R(4)));
        cluster.TickAll(1);
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3, 4]));
        cluster.Node(4).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]));
        cluster.Crash(1);
        cluster.ClearMessageLog();

        cluster.Campaign(2);

        cluster.Delivered.OfType<VoteResponse>().Should().Contain(v => v.From == R(4) && v.To == R(2) && v.Granted,
            "2 needs three of the four voters, and 4 is one of them in 2's configuration");
        cluster.Status(2).Role.Should().Be(Role.Leader);
    }

    [Fact]
    public void Replacing_a_voter_by_a_learner_takes_a_single_joint_change_and_removes_the_old_voter()
    {
        var cluster = WithLearner();

        ProposeResult replace = cluster.Node(1).ProposeConfigChange(ConfigChange.Replace(R(3), R(4)));

        replace.Status.Should().Be(RequestStatus.Accepted);
        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2, 4], outgoing: [1, 2, 3]));
        cluster.Stabilize();
        cluster.TickAll(1);
        cluster.StoredConfigs(1).Select(c => c.Membership).Should().Equal(
            Config(voters: [1, 2, 3], learners: [4]),
            Config(voters: [1, 2, 4], outgoing: [1, 2, 3]),
            Config(voters: [1, 2, 4]));
        foreach (ulong id in new ulong[] { 1, 2, 4 })
            cluster.Node(id).Membership.Should().Be(Config(voters: [1, 2, 4]));

        cluster.Crash(3);
        ProposeResult x = cluster.Propose(1, "without 3");
        cluster.Stabilize();
        cluster.Status(1).Commit.Should().BeGreaterThanOrEqualTo(x.Entry.Index, "1, 2 and 4 are the voters now");
    }

    [Fact]
    public void A_learner_cannot_be_the_target_of_a_leader_transfer()
    {
        var cluster = WithLearner();

        cluster.Node(1).TransferLeadership(R(4)).Status.Should().Be(RequestStatus.InvalidChange);
        cluster.Node(1).Propose(new byte[] { 1 }).Status.Should().Be(RequestStatus.Accepted, "no transfer started");
    }

    [Fact]
    public void Removing_a_learner_takes_one_entry_and_no_joint_configuration()
    {
        var cluster = WithLearner();

        ProposeResult remove = cluster.ChangeMembership(1, ConfigChange.Remove(R(4)));
        cluster.TickAll(1);

        cluster.StoredConfigs(1).Should().HaveCount(2);
        cluster.StoredConfigs(1)[^1].Should().Be((remove.Entry.Index, Config(voters: [1, 2, 3])));
        cluster.Status(1).Commit.Should().BeGreaterThanOrEqualTo(remove.Entry.Index);
    }
}
