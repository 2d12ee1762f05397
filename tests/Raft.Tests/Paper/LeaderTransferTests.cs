namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// Dissertation §3.10: the leader stops taking proposals, brings the target's log up to its own, then tells it to
/// campaign at once (TimeoutNow); the target wins the next term without waiting for an election timeout. A transfer
/// that does not finish within an election timeout is given up.
/// </summary>
public sealed class LeaderTransferTests
{
    private const int Et = TestCluster.ElectionTimeoutTicks;

    [Fact]
    public void A_transfer_to_an_up_to_date_follower_makes_it_leader_of_the_next_term_without_any_tick()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.TickAll(1);

        TransferResult result = cluster.Node(1).TransferLeadership(R(2));
        cluster.Stabilize();

        result.Status.Should().Be(RequestStatus.Accepted);
        cluster.Status(2).Should().Match<RaftStatus>(s => s.Role == Role.Leader && s.Term == term.Next());
        foreach (ulong id in new ulong[] { 1, 3 })
            cluster.Status(id).Should().Match<RaftStatus>(s => s.Role == Role.Follower && s.Term == term.Next() && s.Leader == R(2));
    }

    [Fact]
    public void A_transfer_to_a_lagging_follower_first_catches_it_up_then_hands_over()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        var proposals = Enumerable.Range(0, 5).Select(i => cluster.Propose(1, $"c{i}")).ToList();
        cluster.Stabilize();
        cluster.Heal();
        LogIndex last = cluster.Status(1).LastLog.Index;
        cluster.ClearMessageLog();

        cluster.Node(1).TransferLeadership(R(3)).Status.Should().Be(RequestStatus.Accepted);
        cluster.Stabilize();

        int timeoutNow = cluster.Sent.ToList().FindIndex(m => m is TimeoutNowRequest { To.Value: 3 });
        int caughtUp = cluster.Sent.ToList().FindIndex(m => m is AppendResponse { From.Value: 3, Success: true } r && r.Index == last);
        timeoutNow.Should().BeGreaterThan(-1);
        caughtUp.Should().BeInRange(0, timeoutNow - 1, "the leader hands over only once the target holds its whole log");
        cluster.Status(3).Should().Match<RaftStatus>(s => s.Role == Role.Leader && s.Term == term.Next());
        cluster.TickAll(1);
        foreach (ProposeResult p in proposals)
            cluster.Applied(3).Should().Contain(e => e.Id == p.Entry, "nothing committed before the handover is lost");
    }

    [Fact]
    public void Proposals_and_membership_changes_during_a_transfer_are_refused_with_Transferring()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Node(1).TransferLeadership(R(3)).Status.Should().Be(RequestStatus.Accepted);
        EntryId last = cluster.Status(1).LastLog;

        ProposeResult propose = cluster.Propose(1, "x");
        ProposeResult change = cluster.Node(1).ProposeConfigChange(ConfigChange.AddLearner(R(4)));

        propose.Should().Match<ProposeResult>(r => r.Status == RequestStatus.Transferring && r.LeaderHint == R(3));
        change.Status.Should().Be(RequestStatus.Transferring);
        cluster.Status(1).LastLog.Should().Be(last, "nothing was appended");
    }

    [Fact]
    public void A_transfer_to_an_unreachable_target_is_given_up_after_an_election_timeout_and_proposals_are_taken_again()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Freeze(3);
        cluster.Node(1).TransferLeadership(R(3)).Status.Should().Be(RequestStatus.Accepted);

        cluster.TickAll(Et - 1);
        cluster.Propose(1, "too early").Status.Should().Be(RequestStatus.Transferring);

        cluster.TickAll(1);
        ProposeResult after = cluster.Propose(1, "after");
        after.Status.Should().Be(RequestStatus.Accepted);
        cluster.Stabilize();
        cluster.Status(1).Should().Match<RaftStatus>(s => s.Role == Role.Leader && s.Term == term && s.Commit >= after.Entry.Index);
    }

    [Theory]
    [InlineData(1)]   // itself
    [InlineData(9)]   // not a member
    [InlineData(4)]   // a learner
    public void A_transfer_to_the_leader_itself_a_non_member_or_a_learner_is_refused_with_InvalidChange(ulong target)
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.AddLearner(leader: 1, learner: 4);

        TransferResult result = cluster.Node(1).TransferLeadership(R(target));

        result.Status.Should().Be(RequestStatus.InvalidChange);
        cluster.Propose(1, "x").Status.Should().Be(RequestStatus.Accepted, "no transfer started");
    }

    [Fact]
    public void A_transfer_election_is_answered_by_voters_that_are_still_inside_their_leaders_lease()
    {
        var cluster = new TestCluster(3, preVote: true, checkQuorum: true);
        Term term = cluster.Elect(1);
        cluster.TickAll(1);                          // 2 and 3 just heard from leader 1: a plain vote request is ignored
        cluster.ClearMessageLog();

        cluster.Node(1).TransferLeadership(R(2)).Status.Should().Be(RequestStatus.Accepted);
        cluster.Stabilize();

        cluster.Sent.OfType<VoteRequest>().Should().OnlyContain(v => v.From == R(2) && v.Transfer && !v.PreVote);
        cluster.Status(2).Should().Match<RaftStatus>(s => s.Role == Role.Leader && s.Term == term.Next());
        cluster.Status(3).Should().Match<RaftStatus>(s => s.Vote == R(2) && s.Leader == R(2));
    }

    [Fact]
    public void A_transfer_to_a_follower_that_needs_a_snapshot_hands_over_once_it_has_restored_it_and_caught_up()
    {
        var cluster = new TestCluster(3, configure: c => c with { MaxSnapshotChunkBytes = 16 });
        Term term = cluster.Elect(1);
        cluster.Isolate(3);
        for (int i = 0; i < 5; i++) cluster.Propose(1, $"c{i}");
        cluster.Stabilize();
        Snapshot snapshot = cluster.CompactAll(1);
        ProposeResult tail = cluster.Propose(1, "tail");
        cluster.Stabilize();
        cluster.Heal();

        cluster.Node(1).TransferLeadership(R(3)).Status.Should().Be(RequestStatus.Accepted);
        cluster.Stabilize();

        cluster.Storage(3).Snapshot().Metadata.Should().Be(snapshot.Metadata);
        cluster.Status(3).Should().Match<RaftStatus>(s => s.Role == Role.Leader && s.Term == term.Next());
        cluster.StoredLog(3).Should().Contain(e => e.Id == tail.Entry);
    }
}
