using static KvActors.Raft.Tests.Harness.MembershipSteps;

namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// Dissertation §4.1–§4.3: a configuration is in force as soon as it is in a log; voters change through a joint
/// configuration in which every decision needs a majority of both the old and the new voters; only one change is in
/// flight at a time; and replicas that leave, or that know no configuration, cannot disturb the group.
/// </summary>
public sealed class MembershipTests
{
    private const int Et = TestCluster.ElectionTimeoutTicks;

    /// <summary>Drops appends that carry the configuration leaving a joint one, so that the group stays joint.</summary>
    private static bool LeavesJoint(RaftMessage message) => CarriesConfig(message, m => !m.IsJoint);

    [Fact]
    public void Removing_a_voter_goes_through_a_joint_configuration_to_the_final_one()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);

        ProposeResult remove = cluster.Node(1).ProposeConfigChange(ConfigChange.Remove(R(3)));

        remove.Status.Should().Be(RequestStatus.Accepted);
        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2], outgoing: [1, 2, 3]));
        cluster.Stabilize();
        cluster.TickAll(1);
        cluster.StoredConfigs(1).Select(c => c.Membership).Should().Equal(
            Config(voters: [1, 2], outgoing: [1, 2, 3]),
            Config(voters: [1, 2]));
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2]));
        cluster.Status(2).Commit.Should().BeGreaterThanOrEqualTo(cluster.StoredConfigs(1)[^1].Index);

        cluster.Crash(3);
        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();
        cluster.Status(1).Commit.Should().BeGreaterThanOrEqualTo(x.Entry.Index, "1 and 2 are a majority of the voters now");
    }

    [Fact]
    public void A_leader_that_removes_itself_leads_until_the_final_configuration_commits_then_steps_down_and_the_others_elect_a_leader()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.DropIf = LeavesJoint;

        cluster.ChangeMembership(1, ConfigChange.Remove(R(1)));

        (LogIndex jointIndex, _) = cluster.StoredConfigs(1)[0];
        (LogIndex finalIndex, Membership final) = cluster.StoredConfigs(1)[^1];
        final.Should().Be(Config(voters: [2, 3]));
        cluster.Status(1).Should().Match<RaftStatus>(s => s.Role == Role.Leader && s.Term == term
            && s.Commit >= jointIndex && s.Commit < finalIndex, "the joint configuration committed, the final one did not");
        cluster.Node(1).Membership.Should().Be(final, "in force once appended, even though it leaves the leader out");

        cluster.DropIf = null;
        cluster.TickAll(1);

        cluster.Status(1).Should().Match<RaftStatus>(s => s.Role == Role.Follower && s.Term == term);
        foreach (ulong id in new ulong[] { 2, 3 })
        {
            cluster.Node(id).Membership.Should().Be(final);
            cluster.Status(id).Commit.Should().BeGreaterThanOrEqualTo(finalIndex, "the leader told them before stepping down");
        }
        cluster.ClearMessageLog();
        ReplicaId leader = cluster.TickUntilLeader(id => id != R(1));
        cluster.Status(leader.Value).Term.Should().BeGreaterThan(term);
        cluster.Sent.OfType<VoteRequest>().Should().NotContain(v => v.From == R(1), "a removed replica does not campaign");
        cluster.Status(1).Role.Should().Be(Role.Follower);
    }

    [Fact]
    public void A_second_change_while_the_first_is_uncommitted_is_refused_with_ChangeInProgress()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Node(1).ProposeConfigChange(ConfigChange.AddLearner(R(4))).Status.Should().Be(RequestStatus.Accepted);

        ProposeResult second = cluster.Node(1).ProposeConfigChange(ConfigChange.AddLearner(R(5)));

        second.Status.Should().Be(RequestStatus.ChangeInProgress);
        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]));

        cluster.Stabilize();
        cluster.Node(1).ProposeConfigChange(ConfigChange.AddLearner(R(5))).Status.Should().Be(RequestStatus.Accepted);
    }

    [Fact]
    public void A_change_while_the_configuration_is_joint_is_refused_with_ChangeInProgress_even_when_the_joint_entry_is_committed()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);
        cluster.DropIf = LeavesJoint;
        ProposeResult promote = cluster.ChangeMembership(1, ConfigChange.Promote(R(4)));
        cluster.TickAll(1);                                       // replica 2 learns the joint entry is committed
        cluster.Crash(1);
        cluster.DropIf = m => m is AppendRequest && m.From == R(2);   // 2's first entry as leader cannot commit

        cluster.Elect(2);

        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3, 4], outgoing: [1, 2, 3]));
        cluster.Status(2).Commit.Should().BeGreaterThanOrEqualTo(promote.Entry.Index);
        cluster.Node(2).ProposeConfigChange(ConfigChange.Remove(R(1))).Status.Should().Be(RequestStatus.ChangeInProgress);

        cluster.DropIf = null;
        cluster.TickAll(2);
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3, 4]), "the new leader left the joint configuration");
        cluster.Node(2).ProposeConfigChange(ConfigChange.Remove(R(1))).Status.Should().Be(RequestStatus.Accepted);
    }

    [Fact]
    public void Removing_the_last_voter_is_refused_with_WouldRemoveLastVoter()
    {
        var cluster = new TestCluster(1);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 2);
        EntryId last = cluster.Status(1).LastLog;

        ProposeResult remove = cluster.Node(1).ProposeConfigChange(ConfigChange.Remove(R(1)));

        remove.Status.Should().Be(RequestStatus.WouldRemoveLastVoter);
        cluster.Status(1).LastLog.Should().Be(last, "nothing was appended");
        cluster.Node(1).Membership.Should().Be(Config(voters: [1], learners: [2]));
    }

    [Theory]
    [InlineData(ConfigChangeKind.AddLearner, 2, 0)]        // already a voter
    [InlineData(ConfigChangeKind.AddLearner, 4, 0)]        // already a learner
    [InlineData(ConfigChangeKind.PromoteLearner, 2, 0)]    // a voter, not a learner
    [InlineData(ConfigChangeKind.PromoteLearner, 9, 0)]    // unknown
    [InlineData(ConfigChangeKind.Remove, 9, 0)]            // unknown
    [InlineData(ConfigChangeKind.ReplaceVoter, 9, 4)]      // the replaced one is no voter
    [InlineData(ConfigChangeKind.ReplaceVoter, 2, 3)]      // the replacement is no learner
    [InlineData(ConfigChangeKind.ReplaceVoter, 2, 9)]      // the replacement is unknown
    public void A_change_that_makes_no_sense_for_the_membership_is_refused_with_InvalidChange(
        ConfigChangeKind kind, ulong replica, ulong replacement)
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);
        EntryId last = cluster.Status(1).LastLog;

        ProposeResult result = cluster.Node(1).ProposeConfigChange(new ConfigChange(kind, R(replica), R(replacement)));

        result.Status.Should().Be(RequestStatus.InvalidChange);
        cluster.Status(1).LastLog.Should().Be(last, "nothing was appended");
        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]));
    }

    [Fact]
    public void A_replica_that_does_not_lead_refuses_a_change_with_NotLeader_and_names_the_leader()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);

        ProposeResult result = cluster.Node(2).ProposeConfigChange(ConfigChange.AddLearner(R(4)));

        result.Should().Match<ProposeResult>(r => r.Status == RequestStatus.NotLeader && r.LeaderHint == R(1));
        cluster.Node(2).HasReady().Should().BeFalse();
    }

    /// <summary>Voters 1, 2, 3, learner 4; leader 1 has just appended the joint configuration [1, 2, 4] / [1, 2, 3].</summary>
    private static (TestCluster Cluster, ProposeResult Joint) JointBeingAppended()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);
        ProposeResult joint = cluster.Node(1).ProposeConfigChange(ConfigChange.Replace(R(3), R(4)));
        joint.Status.Should().Be(RequestStatus.Accepted);
        return (cluster, joint);
    }

    [Theory]
    [InlineData(2, 3, 4)]   // 1 and 4 are a majority of the new voters [1, 2, 4], 1 alone is not of the old [1, 2, 3]
    [InlineData(2, 4, 3)]   // 1 and 3 are a majority of the old voters, 1 alone is not of the new
    public void In_a_joint_configuration_an_entry_commits_only_with_a_majority_of_both_the_old_and_the_new_voters(
        ulong cutA, ulong cutB, ulong reachable)
    {
        (TestCluster cluster, ProposeResult joint) = JointBeingAppended();
        cluster.Cut(1, cutA);
        cluster.Cut(1, cutB);

        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();
        cluster.TickAll(2);

        cluster.Storage(reachable).LastIndex().Should().Be(x.Entry.Index, $"replica {reachable} stored and acknowledged it");
        cluster.Status(1).Commit.Should().BeLessThan(joint.Entry.Index, "one half of the joint configuration has no majority");

        cluster.Heal();
        cluster.TickAll(2);
        cluster.Status(1).Commit.Should().BeGreaterThanOrEqualTo(x.Entry.Index);
    }

    [Theory]
    [InlineData(3, 4)]   // votes of 2 and 4: a majority of the new voters [1, 2, 4] only
    [InlineData(4, 3)]   // votes of 2 and 3: a majority of the old voters [1, 2, 3] only
    public void In_a_joint_configuration_a_candidate_needs_a_majority_of_both_the_old_and_the_new_voters(ulong cut, ulong voter)
    {
        (TestCluster cluster, _) = JointBeingAppended();
        cluster.DropIf = LeavesJoint;
        cluster.Stabilize();
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 4], outgoing: [1, 2, 3]));
        cluster.Crash(1);
        cluster.Cut(2, cut);
        cluster.ClearMessageLog();

        cluster.Campaign(2);

        cluster.Delivered.OfType<VoteResponse>().Should()
            .ContainSingle(v => v.To == R(2) && v.Granted).Which.From.Should().Be(R(voter));
        cluster.Status(2).Role.Should().Be(Role.Candidate);

        cluster.Heal();
        cluster.Elect(2);
        cluster.Status(2).Role.Should().Be(Role.Leader, "with 3 and 4 voting too, both halves have a majority");
    }

    [Fact]
    public void A_follower_that_truncates_an_uncommitted_configuration_entry_goes_back_to_the_previous_configuration()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        cluster.Cut(1, 3);
        cluster.Cut(1, 4);
        cluster.Cut(1, 5);
        cluster.DropIf = m => m is AppendResponse && m.From == R(2);   // the leader never learns 2 stored it
        ProposeResult addLearner = cluster.Node(1).ProposeConfigChange(ConfigChange.AddLearner(R(6)));
        cluster.Stabilize();
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3, 4, 5], learners: [6]));
        cluster.Status(2).Commit.Should().BeLessThan(addLearner.Entry.Index);

        cluster.DropIf = null;
        cluster.Isolate(1);
        cluster.Isolate(2);
        cluster.Elect(3);                        // with 4 and 5; its own entry goes where the configuration was
        cluster.Heal();
        cluster.Isolate(1);
        cluster.TickAll(2);

        cluster.StoredLog(2).Single(e => e.Index == addLearner.Entry.Index).Kind.Should().NotBe(EntryKind.Config);
        cluster.StoredConfigs(2).Should().BeEmpty();
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3, 4, 5]));
    }

    [Fact]
    public void A_restarted_replica_recovers_its_configuration_from_its_snapshot_and_the_configuration_entries_after_it()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);
        Snapshot first = cluster.CompactAll(2);
        cluster.AddLearner(leader: 1, learner: 5);

        cluster.Crash(2);
        cluster.RestartFromDisk(2);

        first.Metadata.Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]));
        cluster.StoredConfigs(2).Should().ContainSingle().Which.Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4, 5]));
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4, 5]), "the entry after the snapshot overrides it");

        cluster.Stabilize();
        Snapshot second = cluster.CompactAll(2);
        cluster.Crash(2);
        cluster.RestartFromDisk(2);

        cluster.StoredConfigs(2).Should().BeEmpty("every configuration entry is compacted");
        second.Metadata.Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4, 5]));
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4, 5]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_replica_with_an_empty_disk_grants_no_vote(bool preVote)
    {
        var cluster = new TestCluster(3);
        cluster.AddReplica(4);

        cluster.Node(4).Step(new VoteRequest(R(1), R(4), T(5), E(5, 100), preVote));
        Ready ready = cluster.TakeReady(4);

        ready.Messages.OfType<VoteResponse>().Should().ContainSingle().Which.Granted.Should().BeFalse(
            "it may have voted in this term before it lost its disk");
        cluster.Status(4).Vote.Should().Be(ReplicaId.None);
    }

    [Fact]
    public void A_removed_replica_that_keeps_running_and_campaigning_does_not_disrupt_the_cluster_with_PreVote_and_CheckQuorum()
    {
        var cluster = new TestCluster(3, preVote: true, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.ChangeMembership(1, ConfigChange.Remove(R(3)));
        cluster.TickAll(1);
        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2]));
        cluster.ClearMessageLog();

        cluster.TickAll(20 * Et);

        cluster.Sent.OfType<VoteRequest>().Should().Contain(v => v.From == R(3), "the removed replica keeps campaigning");
        cluster.Leader.Should().Be(R(1));
        cluster.Status(1).Term.Should().Be(term);
        cluster.Status(2).Should().Match<RaftStatus>(s => s.Term == term && s.Leader == R(1));
        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();
        cluster.Status(1).Commit.Should().BeGreaterThanOrEqualTo(x.Entry.Index);
    }

    [Fact]
    public void A_new_leader_that_inherits_an_uncommitted_joint_configuration_commits_it_and_leaves_it_by_itself()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);
        cluster.DropIf = m => m is AppendResponse && m.To == R(1);       // leader 1 never learns who stored the joint entry
        ProposeResult promote = cluster.ChangeMembership(1, ConfigChange.Promote(R(4)));
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3, 4], outgoing: [1, 2, 3]));
        cluster.Status(2).Commit.Should().BeLessThan(promote.Entry.Index);
        cluster.DropIf = null;
        cluster.Crash(1);

        cluster.Elect(2);
        cluster.TickAll(1);

        (LogIndex finalIndex, Membership final) = cluster.StoredConfigs(2)[^1];
        final.Should().Be(Config(voters: [1, 2, 3, 4]));
        finalIndex.Should().BeGreaterThan(promote.Entry.Index);
        foreach (ulong id in new ulong[] { 2, 3, 4 })
        {
            cluster.Node(id).Membership.Should().Be(final);
            cluster.Status(id).Commit.Should().BeGreaterThanOrEqualTo(finalIndex);
        }
    }

    [Fact]
    public void A_leader_in_a_joint_configuration_steps_down_when_a_majority_of_either_half_is_silent_with_CheckQuorum()
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);
        cluster.Node(1).ProposeConfigChange(ConfigChange.Replace(R(3), R(4))).Status.Should().Be(RequestStatus.Accepted);
        cluster.Cut(1, 2);
        cluster.Cut(1, 3);
        cluster.Freeze(2);                                  // they stay quiet: the step-down is CheckQuorum's alone
        cluster.Freeze(3);

        cluster.TickAll(2 * Et);

        cluster.Node(1).Membership.Should().Be(Config(voters: [1, 2, 4], outgoing: [1, 2, 3]));
        cluster.Status(1).Should().Match<RaftStatus>(s => s.Role == Role.Follower && s.Term == term,
            "1 and 4 are a majority of the new voters, but 1 alone is no majority of the old ones");
    }

    [Fact]
    public void Replacing_the_leader_by_a_learner_hands_the_group_to_the_new_voters()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);

        cluster.ChangeMembership(1, ConfigChange.Replace(R(1), R(4)));
        cluster.TickAll(1);

        cluster.Status(1).Role.Should().Be(Role.Follower, "the committed configuration leaves it out");
        ReplicaId leader = cluster.TickUntilLeader(id => id != R(1));
        cluster.Status(leader.Value).Term.Should().BeGreaterThan(term);
        cluster.Node(leader.Value).Membership.Should().Be(Config(voters: [2, 3, 4]));
        ProposeResult x = cluster.Propose(leader.Value, "x");
        cluster.Stabilize();
        cluster.TickAll(1);
        foreach (ulong id in new ulong[] { 2, 3, 4 })
            cluster.Applied(id).Should().Contain(e => e.Id == x.Entry);
    }
}
