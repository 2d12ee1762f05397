namespace KvActors.Raft.Tests.Paper;

/// <summary>§5.1 and §5.2: terms, timeouts, and how a replica becomes, stays and stops being leader.</summary>
public sealed class ElectionTests
{
    public enum HigherTermMessage { AppendRequest, HeartbeatRequest, VoteRequest, AppendResponse, HeartbeatResponse, VoteResponse }

    private static RaftMessage AtTerm(HigherTermMessage kind, ulong from, ulong to, ulong term) => kind switch
    {
        HigherTermMessage.AppendRequest => TestCluster.Append(from, to, term, E(0, 0), 0),
        HigherTermMessage.HeartbeatRequest => new HeartbeatRequest(R(from), R(to), T(term), I(0), 0),
        HigherTermMessage.VoteRequest => new VoteRequest(R(from), R(to), T(term), E(term, 100), PreVote: false),
        HigherTermMessage.AppendResponse => new AppendResponse(R(from), R(to), T(term), false, I(0), default),
        HigherTermMessage.HeartbeatResponse => new HeartbeatResponse(R(from), R(to), T(term), 0),
        HigherTermMessage.VoteResponse => new VoteResponse(R(from), R(to), T(term), PreVote: false, Granted: false),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [InlineData(HigherTermMessage.AppendRequest)]
    [InlineData(HigherTermMessage.HeartbeatRequest)]
    [InlineData(HigherTermMessage.VoteRequest)]
    [InlineData(HigherTermMessage.AppendResponse)]
    [InlineData(HigherTermMessage.HeartbeatResponse)]
    [InlineData(HigherTermMessage.VoteResponse)]
    public void A_leader_that_sees_a_higher_term_in_any_message_becomes_a_follower_of_that_term(HigherTermMessage kind)
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);

        cluster.Node(1).Step(AtTerm(kind, from: 2, to: 1, term: term.Value + 3));

        RaftStatus status = cluster.Status(1);
        status.Role.Should().Be(Role.Follower);
        status.Term.Should().Be(T(term.Value + 3));
        // Only a leader's own message names a leader; anything else leaves the new term leaderless.
        status.Leader.Should().Be(kind is HigherTermMessage.AppendRequest or HigherTermMessage.HeartbeatRequest ? R(2) : ReplicaId.None);
        cluster.TakeReady(1).HardState!.Value.Term.Should().Be(T(term.Value + 3), "the adopted term must be written durably");
    }

    [Theory]
    [InlineData(HigherTermMessage.AppendRequest)]
    [InlineData(HigherTermMessage.HeartbeatRequest)]
    [InlineData(HigherTermMessage.VoteRequest)]
    [InlineData(HigherTermMessage.AppendResponse)]
    public void A_candidate_that_sees_a_higher_term_becomes_a_follower_of_that_term(HigherTermMessage kind)
    {
        var cluster = new TestCluster(3);
        cluster.TickUntilCampaign(1);
        cluster.Status(1).Role.Should().Be(Role.Candidate);

        cluster.Node(1).Step(AtTerm(kind, from: 3, to: 1, term: 7));

        cluster.Status(1).Role.Should().Be(Role.Follower);
        cluster.Status(1).Term.Should().Be(T(7));
    }

    [Fact]
    public void A_stale_term_append_is_ignored_by_a_replica_in_a_later_term()
    {
        // Replica 3 is at term 2 with an uncommitted term-2 entry at index 2.
        var cluster = new TestCluster(3, preload: (id, storage) => TestCluster.WriteLog(storage, term: 2, vote: 0, commit: 1, 1, 2));
        cluster.Stabilize();

        // Were it accepted, this append from a leader of term 1 would replace the entry at index 2.
        cluster.Node(3).Step(TestCluster.Append(from: 1, to: 3, term: 1, prev: E(1, 1), commit: 2, 1));

        cluster.Status(3).Should().Match<RaftStatus>(s => s.Term == T(2) && s.Leader == ReplicaId.None && s.Commit == I(1));
        cluster.Node(3).HasReady().Should().BeFalse("without PreVote or CheckQuorum a stale message gets no answer at all");
        cluster.StoredTerms(3).Should().Equal(1, 2);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void With_PreVote_or_CheckQuorum_a_stale_leader_is_answered_at_the_higher_term_and_steps_down(bool preVote, bool checkQuorum)
    {
        var cluster = new TestCluster(3, preVote, checkQuorum);
        Term oldTerm = cluster.Elect(1);
        cluster.Isolate(1);
        cluster.Freeze(1);                   // paused and cut off: it still believes it leads
        ReplicaId newLeader = cluster.TickUntilLeader(id => id != R(1));
        Term newTerm = cluster.Status(newLeader.Value).Term;
        cluster.Heal();
        cluster.ClearMessageLog();

        cluster.Tick(1);                     // only the stale leader's clock runs: it heartbeats at its old term
        cluster.Stabilize();

        newTerm.Should().BeGreaterThan(oldTerm);
        cluster.Delivered.OfType<AppendResponse>()
            .Should().Contain(r => r.To == R(1) && r.Term == newTerm && !r.Success, "the stale leader must learn the newer term");
        cluster.Status(1).Role.Should().Be(Role.Follower);
        cluster.Status(1).Term.Should().Be(newTerm);
        cluster.Leader.Should().Be(newLeader);
    }

    [Fact]
    public void A_follower_that_hears_nothing_for_an_election_timeout_campaigns_in_the_next_term()
    {
        var cluster = new TestCluster(3);

        cluster.TickUntilCampaign(2);

        cluster.Status(2).Should().Match<RaftStatus>(s => s.Role == Role.Candidate && s.Term == T(1) && s.Vote == R(2));
        Ready ready = cluster.TakeReady(2);
        ready.HardState.Should().Be(new HardState(T(1), R(2), I(0)), "its own vote is written before it asks for others'");
        ready.Messages.OfType<VoteRequest>().Select(m => m.To).Should().BeEquivalentTo([R(1), R(3)]);
        ready.Messages.OfType<VoteRequest>().Should().OnlyContain(m => m.Term == T(1) && !m.PreVote && m.LastLog == E(0, 0));
    }

    [Fact]
    public void Election_timeouts_are_drawn_at_random_from_one_to_two_election_timeouts()
    {
        var waits = new List<int>();
        for (ulong seed = 1; seed <= 200; seed++)
        {
            var storage = new MemoryRaftStorage(Membership.Of(R(1), R(2), R(3)));
            var node = new RaftNode(new RaftConfig { Id = R(1), ElectionTimeoutTicks = 10, RandomSeed = seed, PreVote = false }, storage);
            int ticks = 0;
            while (node.Status.Role == Role.Follower && ticks < 100)
            {
                node.Tick();
                ticks++;
            }
            waits.Add(ticks);
        }

        waits.Should().OnlyContain(w => w >= 10 && w < 20, "§5.2: the timeout is drawn from [et, 2et)");
        waits.Distinct().Should().HaveCountGreaterThan(5, "timeouts must actually be randomized, or candidates keep colliding");
    }

    [Fact]
    public void Replicas_seeded_with_their_own_ids_draw_different_election_timeouts()
    {
        // The configuration the docs invite ("give every replica its own" seed): RandomSeed = Id.
        var timeouts = new List<int[]>();
        foreach (ulong id in new ulong[] { 1, 2, 3 })
        {
            var storage = new MemoryRaftStorage(Membership.Of(R(1), R(2), R(3)));
            var node = new RaftNode(new RaftConfig { Id = R(id), ElectionTimeoutTicks = 10, RandomSeed = id, PreVote = false }, storage);
            timeouts.Add(TicksBetweenCampaigns(node, campaigns: 8));
        }

        timeouts[0].Should().NotEqual(timeouts[1], "replicas with identical timeouts split every vote");
        timeouts[1].Should().NotEqual(timeouts[2]);
    }

    private static int[] TicksBetweenCampaigns(RaftNode node, int campaigns)
    {
        var waits = new List<int>();
        int ticks = 0;
        Term term = node.Status.Term;
        while (waits.Count < campaigns && ticks < 100)
        {
            node.Tick();
            ticks++;
            if (node.Status.Term == term) continue;
            waits.Add(ticks);
            ticks = 0;
            term = node.Status.Term;
        }
        return [.. waits];
    }

    [Fact]
    public void Each_new_term_draws_a_new_election_timeout()
    {
        var storage = new MemoryRaftStorage(Membership.Of(R(1), R(2), R(3)));
        var node = new RaftNode(new RaftConfig { Id = R(1), ElectionTimeoutTicks = 10, RandomSeed = 7, PreVote = false }, storage);

        int[] waits = TicksBetweenCampaigns(node, campaigns: 30);

        waits.Should().HaveCount(30);
        waits.Should().OnlyContain(w => w >= 10 && w < 20);
        waits.Distinct().Should().HaveCountGreaterThan(3, "an unanswered candidate retries after a fresh random timeout");
    }

    [Fact]
    public void A_candidate_with_votes_from_a_majority_becomes_leader()
    {
        var cluster = new TestCluster(5);
        cluster.Isolate(4);
        cluster.Isolate(5);

        cluster.Campaign(1);

        cluster.Status(1).Role.Should().Be(Role.Leader, "itself, 2 and 3 are three of five");
        cluster.Status(2).Leader.Should().Be(R(1));
    }

    [Fact]
    public void A_candidate_counts_each_voter_of_its_configuration_once()
    {
        var cluster = new TestCluster(5);
        cluster.Isolate(1);
        cluster.TickUntilCampaign(1);
        Term term = cluster.Status(1).Term;

        cluster.Node(1).Step(new VoteResponse(R(2), R(1), term, PreVote: false, Granted: true));
        cluster.Node(1).Step(new VoteResponse(R(2), R(1), term, PreVote: false, Granted: true));
        cluster.Node(1).Step(new VoteResponse(R(6), R(1), term, PreVote: false, Granted: true));
        cluster.Node(1).Step(new VoteResponse(R(7), R(1), term, PreVote: false, Granted: true));

        cluster.Status(1).Role.Should().Be(Role.Candidate, "only 1 and 2 of the five voters granted: a duplicate and outsiders do not count");

        cluster.Node(1).Step(new VoteResponse(R(3), R(1), term, PreVote: false, Granted: true));

        cluster.Status(1).Role.Should().Be(Role.Leader);
    }

    [Fact]
    public void Only_a_replica_that_holds_every_committed_entry_can_win_an_election()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        cluster.Isolate(4);
        cluster.Isolate(5);
        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();                   // committed on 1, 2 and 3
        cluster.Status(1).Commit.Should().Be(x.Entry.Index);
        cluster.Heal();
        cluster.Crash(1);

        cluster.Campaign(4);
        cluster.Campaign(5);
        cluster.Status(4).Role.Should().NotBe(Role.Leader, "§5.4.1: 2 and 3 hold a more up-to-date log");
        cluster.Status(5).Role.Should().NotBe(Role.Leader);

        cluster.Elect(2);
        cluster.TickAll(2);
        foreach (ulong id in new ulong[] { 2, 3, 4, 5 })
            cluster.Applied(id).Should().Contain(e => e.Id == x.Entry, $"replica {id} keeps the committed entry");
    }

    [Fact]
    public void A_follower_that_keeps_hearing_from_its_leader_never_campaigns()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);

        cluster.TickAll(20 * TestCluster.ElectionTimeoutTicks);

        foreach (ReplicaId id in cluster.Ids) cluster.Status(id.Value).Term.Should().Be(term);
        cluster.Sent.OfType<VoteRequest>().Should().OnlyContain(m => m.From == R(1) && m.Term == term);
    }

    [Fact]
    public void A_candidate_refused_by_a_majority_becomes_a_follower_again()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.Isolate(3);
        cluster.Stabilize();               // 3 misses x, so its log is behind
        cluster.Heal();

        cluster.Campaign(3);

        cluster.Status(3).Role.Should().Be(Role.Follower);
        cluster.Delivered.OfType<VoteResponse>().Should().Contain(r => r.To == R(3) && !r.Granted);
    }

    [Fact]
    public void A_candidate_that_hears_from_a_leader_of_its_own_term_steps_down()
    {
        var cluster = new TestCluster(3);
        cluster.TickUntilCampaign(2);
        Term term = cluster.Status(2).Term;

        cluster.Node(2).Step(new HeartbeatRequest(R(1), R(2), term, I(0), 0));

        cluster.Status(2).Should().Match<RaftStatus>(s => s.Role == Role.Follower && s.Term == term && s.Leader == R(1) && s.Vote == R(2));
    }

    [Fact]
    public void A_split_vote_is_followed_by_a_new_election_in_a_later_term()
    {
        var cluster = new TestCluster(4);
        cluster.Cut(1, 4);
        cluster.Cut(3, 2);
        cluster.TickUntilCampaign(1);
        cluster.TickUntilCampaign(3);

        cluster.Stabilize();   // 2 votes for 1 and 4 for 3: two votes each, three needed

        cluster.Status(1).Role.Should().Be(Role.Candidate);
        cluster.Status(3).Role.Should().Be(Role.Candidate);
        cluster.Leader.Should().Be(ReplicaId.None);

        cluster.Heal();
        for (int i = 0; i < 10 * TestCluster.ElectionTimeoutTicks && !cluster.Leader.IsSome; i++) cluster.TickAll(1);

        cluster.Leader.IsSome.Should().BeTrue("randomized timeouts break the tie");
        cluster.Status(cluster.Leader.Value).Term.Should().BeGreaterThan(T(1));
    }

    [Fact]
    public void A_new_leader_appends_a_no_op_entry_of_its_term_and_commits_it()
    {
        var cluster = new TestCluster(3);

        Term term = cluster.Elect(1);
        cluster.TickAll(1);        // a heartbeat tells the followers the commit index

        Entry noop = cluster.StoredLog(1)[^1];
        noop.Should().Match<Entry>(e => e.Kind == EntryKind.Noop && e.Term == term && e.Index == I(1) && e.Data.IsEmpty);
        foreach (ReplicaId id in cluster.Ids)
        {
            cluster.Status(id.Value).Commit.Should().Be(I(1));
            cluster.Applied(id.Value).Should().ContainSingle().Which.SameAs(noop).Should().BeTrue();
        }
    }

    [Fact]
    public void A_proposal_to_a_follower_is_refused_with_the_leader_as_a_hint()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(2);

        ProposeResult result = cluster.Propose(3, "x");

        result.Status.Should().Be(RequestStatus.NotLeader);
        result.LeaderHint.Should().Be(R(2));
        cluster.Node(3).HasReady().Should().BeFalse("nothing was appended");
    }

    [Fact]
    public void A_proposal_when_no_leader_is_known_is_refused_with_no_hint()
    {
        var cluster = new TestCluster(3);

        ProposeResult result = cluster.Propose(1, "x");

        result.Status.Should().Be(RequestStatus.NotLeader);
        result.LeaderHint.Should().Be(ReplicaId.None);
    }
}
