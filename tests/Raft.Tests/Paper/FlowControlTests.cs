namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// How much a leader sends and holds (etcd's flow control): one probe at a time to a follower whose log end is
/// unknown; a bounded window of appends (by count and by bytes) to one that replicates; and a bound on the bytes of
/// entries appended but not yet committed, past which proposals are refused instead of growing memory.
/// </summary>
public sealed class FlowControlTests
{
    /// <summary>A command whose entry counts exactly <paramref name="sizeBytes"/> toward byte limits.</summary>
    private static byte[] CommandOfSize(int sizeBytes) => new byte[sizeBytes - Entry.HeaderBytes];

    private static List<AppendRequest> AppendsWithEntries(IEnumerable<RaftMessage> messages, ulong to) =>
        messages.OfType<AppendRequest>().Where(a => a.To == R(to) && a.Entries.Length > 0).ToList();

    private static void RequireCaughtUp(TestCluster cluster, ulong id) =>
        cluster.Storage(id).LastIndex().Should().Be(cluster.Storage(1).LastIndex(), $"replica {id} caught up");

    [Fact]
    public void A_follower_in_Probe_gets_one_append_at_a_time_until_it_answers()
    {
        var cluster = new TestCluster(3);
        cluster.HoldIf = m => m is AppendRequest && m.To == R(3);
        cluster.Elect(1);                                   // a new leader probes every follower
        for (int i = 0; i < 3; i++)
        {
            cluster.Propose(1, $"c{i}");
            cluster.Stabilize();
        }

        cluster.Sent.OfType<AppendRequest>().Where(a => a.To == R(3)).Should().ContainSingle("the probe is unanswered");
        AppendsWithEntries(cluster.Sent, to: 2).Should().HaveCount(4, "2 answers, so it gets the no-op and each command");

        cluster.HoldIf = null;
        cluster.ReleaseHeld();
        cluster.Stabilize();

        RequireCaughtUp(cluster, 3);
    }

    [Fact]
    public void A_follower_in_Replicate_has_at_most_MaxInflightAppends_appends_in_flight_while_it_does_not_answer()
    {
        var cluster = new TestCluster(3, configure: c => c with { MaxInflightAppends = 3 });
        cluster.Elect(1);                                   // 3 answered the probe: it replicates
        cluster.HoldIf = m => m is AppendRequest && m.To == R(3);
        cluster.ClearMessageLog();

        for (int i = 0; i < 6; i++)
        {
            cluster.Propose(1, $"c{i}");
            cluster.Stabilize();
        }

        AppendsWithEntries(cluster.Sent, to: 3).Should().HaveCount(3);
        AppendsWithEntries(cluster.Sent, to: 2).Should().HaveCount(6);

        cluster.HoldIf = null;
        cluster.ReleaseHeld();
        cluster.Stabilize();
        RequireCaughtUp(cluster, 3);
    }

    [Fact]
    public void A_follower_in_Replicate_has_at_most_MaxInflightBytes_of_entries_in_flight_while_it_does_not_answer()
    {
        var cluster = new TestCluster(3, configure: c => c with { MaxInflightBytes = 300 });
        cluster.Elect(1);
        cluster.HoldIf = m => m is AppendRequest && m.To == R(3);
        cluster.ClearMessageLog();

        for (int i = 0; i < 6; i++)
        {
            cluster.Propose(1, CommandOfSize(100));
            cluster.Stabilize();
        }

        List<AppendRequest> inFlight = AppendsWithEntries(cluster.Sent, to: 3);
        inFlight.Sum(a => a.Entries.Sum(e => e.SizeBytes)).Should().Be(300, "three 100-byte entries fill the window");
        AppendsWithEntries(cluster.Sent, to: 2).Should().HaveCount(6);

        cluster.HoldIf = null;
        cluster.ReleaseHeld();
        cluster.Stabilize();
        RequireCaughtUp(cluster, 3);
    }

    [Fact]
    public void A_leader_at_MaxUncommittedBytes_refuses_proposals_with_TooBusy_and_takes_them_again_once_entries_commit()
    {
        var cluster = new TestCluster(3, configure: c => c with { MaxUncommittedBytes = 100 });
        cluster.Elect(1);
        cluster.Isolate(2);
        cluster.Isolate(3);

        cluster.Propose(1, new byte[40]).Status.Should().Be(RequestStatus.Accepted);
        cluster.Propose(1, new byte[40]).Status.Should().Be(RequestStatus.Accepted);
        LogIndex last = cluster.Status(1).LastLog.Index;
        ProposeResult over = cluster.Propose(1, new byte[40]);
        cluster.Propose(1, new byte[20]).Status.Should().Be(RequestStatus.Accepted, "exactly at the limit is still within it");
        ProposeResult full = cluster.Propose(1, new byte[1]);

        over.Should().Match<ProposeResult>(r => r.Status == RequestStatus.TooBusy && r.LeaderHint == R(1));
        full.Status.Should().Be(RequestStatus.TooBusy);
        cluster.Status(1).LastLog.Index.Should().Be(last.Next(), "refused proposals are not appended");

        cluster.Heal();
        cluster.TickAll(1);
        cluster.Status(1).Commit.Should().Be(last.Next());
        cluster.Propose(1, new byte[40]).Status.Should().Be(RequestStatus.Accepted);
    }

    [Fact]
    public void One_proposal_is_always_taken_when_nothing_is_uncommitted_even_if_it_is_larger_than_MaxUncommittedBytes()
    {
        var cluster = new TestCluster(3, configure: c => c with { MaxUncommittedBytes = 100 });
        cluster.Elect(1);
        cluster.Isolate(2);
        cluster.Isolate(3);

        ProposeResult large = cluster.Propose(1, new byte[500]);
        ProposeResult next = cluster.Propose(1, new byte[1]);

        large.Status.Should().Be(RequestStatus.Accepted, "otherwise a command larger than the limit could never be proposed");
        next.Status.Should().Be(RequestStatus.TooBusy);

        cluster.Heal();
        cluster.TickAll(1);
        cluster.Status(1).Commit.Should().Be(large.Entry.Index);
        cluster.Propose(1, new byte[1]).Status.Should().Be(RequestStatus.Accepted);
    }
}
