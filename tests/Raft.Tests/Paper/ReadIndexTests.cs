namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// Dissertation §6.4: a read is linearizable at the leader's commit index once the leader has committed an entry of
/// its term and a quorum has confirmed, after the read arrived, that it still leads.
/// </summary>
public sealed class ReadIndexTests
{
    private static ReadContext Ctx(ulong value) => new(value);

    private static TestCluster LeaderWithCommittedTerm()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.TickAll(1);
        cluster.ClearMessageLog();
        return cluster;
    }

    [Fact]
    public void A_read_is_not_answered_before_the_leader_has_committed_an_entry_of_its_term()
    {
        // Entry 1 was committed by an earlier leader: 2 and 3 know it, the leader-to-be 1 does not yet.
        var cluster = new TestCluster(3, preload: (id, storage) =>
            TestCluster.WriteLog(storage, term: 1, vote: 0, commit: id == R(1) ? 0UL : 1UL, 1));
        cluster.DropIf = m => m is AppendRequest { From.Value: 1 };     // its no-op cannot commit
        cluster.Elect(1);
        cluster.Status(1).Commit.Should().Be(I(0));

        cluster.Node(1).ReadIndex(Ctx(1)).IsAccepted.Should().BeTrue();
        cluster.TickAll(3);

        cluster.Delivered.OfType<HeartbeatResponse>().Should().Contain(r => r.To == R(1), "a quorum does answer");
        cluster.ReadStates(1).Should().BeEmpty("at commit index 0 the read would miss the committed entry 1");

        cluster.DropIf = null;
        cluster.TickAll(2);

        cluster.ReadStates(1).Should().ContainSingle().Which.Should().Be(new ReadState(Ctx(1), I(2)));
    }

    [Fact]
    public void A_read_is_answered_at_the_commit_index_once_a_quorum_answers_a_heartbeat_sent_after_it()
    {
        var cluster = LeaderWithCommittedTerm();
        cluster.Cut(1, 3);                    // 2 and the leader are a quorum
        LogIndex commit = cluster.Status(1).Commit;

        cluster.Node(1).ReadIndex(Ctx(7));
        Ready ready = cluster.TakeReady(1);

        ready.ReadStates.Should().BeEmpty("nobody has confirmed the leadership yet");
        ready.MessagesBeforeWrite.OfType<HeartbeatRequest>().Should().HaveCount(2).And.OnlyContain(h => h.ReadRound > 0);
        cluster.Complete(1, ready);
        cluster.Stabilize();

        cluster.ReadStates(1).Should().Equal(new ReadState(Ctx(7), commit));
    }

    [Fact]
    public void A_read_is_not_answered_while_no_quorum_answers()
    {
        var cluster = LeaderWithCommittedTerm();
        cluster.Isolate(1);

        cluster.Node(1).ReadIndex(Ctx(7));
        cluster.TickAll(5 * TestCluster.ElectionTimeoutTicks);

        cluster.Status(1).Role.Should().Be(Role.Leader, "without CheckQuorum it keeps believing it leads");
        cluster.ReadStates(1).Should().BeEmpty();
    }

    [Fact]
    public void Many_reads_issued_between_two_Readys_are_confirmed_by_one_heartbeat_round()
    {
        var cluster = LeaderWithCommittedTerm();

        for (ulong i = 1; i <= 10; i++) cluster.Node(1).ReadIndex(Ctx(i));
        cluster.Stabilize();

        cluster.Sent.OfType<HeartbeatRequest>().Should().HaveCount(2, "one heartbeat per follower confirms the whole batch");
        cluster.ReadStates(1).Select(r => r.Context.Value).Should().Equal(1UL, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    }

    [Fact]
    public void A_read_index_is_at_least_the_commit_index_when_the_read_was_issued()
    {
        var cluster = LeaderWithCommittedTerm();
        for (int i = 0; i < 5; i++) cluster.Propose(1, $"w{i}");
        cluster.Stabilize();
        LogIndex commitAtRead = cluster.Status(1).Commit;

        cluster.Node(1).ReadIndex(Ctx(1));
        cluster.Propose(1, "later");
        cluster.Stabilize();

        cluster.ReadStates(1).Should().ContainSingle().Which.Index.Should().BeGreaterThanOrEqualTo(commitAtRead);
        commitAtRead.Should().Be(I(6), "the no-op and five writes were committed before the read");
    }

    [Fact]
    public void A_read_on_a_follower_is_refused_with_the_leader_as_a_hint()
    {
        var cluster = LeaderWithCommittedTerm();

        ReadIndexResult result = cluster.Node(2).ReadIndex(Ctx(1));

        result.Status.Should().Be(RequestStatus.NotLeader);
        result.LeaderHint.Should().Be(R(1));
    }

    [Fact]
    public void A_read_when_no_leader_is_known_is_refused_with_no_hint()
    {
        var cluster = new TestCluster(3);

        ReadIndexResult result = cluster.Node(2).ReadIndex(Ctx(1));

        result.Should().Be(new ReadIndexResult(RequestStatus.NotLeader, ReplicaId.None));
    }

    [Fact]
    public void A_pending_read_is_aborted_when_its_leader_learns_of_a_higher_term()
    {
        var cluster = LeaderWithCommittedTerm();
        cluster.Isolate(1);
        cluster.Node(1).ReadIndex(Ctx(5));
        cluster.Stabilize();

        cluster.Node(1).Step(new AppendResponse(R(2), R(1), T(cluster.Status(1).Term.Value + 1), false, I(0), default));
        cluster.Stabilize();

        cluster.AbortedReads(1).Should().Equal(Ctx(5));
        cluster.ReadStates(1).Should().BeEmpty();
    }
}
