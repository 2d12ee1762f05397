namespace KvActors.Raft.Tests.Paper;

/// <summary>§5.3, Figure 2's AppendEntries receiver, and how a leader repairs a follower's log.</summary>
public sealed class ReplicationTests
{
    /// <summary>A cluster whose replica 3 holds the given log at term 2 and hears nothing by itself.</summary>
    private static TestCluster FollowerWithLog(ulong commit, params ulong[] entryTerms) =>
        new(3, preload: (id, storage) =>
        {
            if (id == R(3)) TestCluster.WriteLog(storage, term: 2, vote: 0, commit: commit, entryTerms);
        });

    private static AppendResponse SingleAppendAnswer(Ready ready) =>
        ready.Messages.OfType<AppendResponse>().Should().ContainSingle().Subject;

    [Theory]
    [InlineData(3, 3)]      // the index exists with another term
    [InlineData(2, 5)]      // the index is past the end of the log
    public void An_append_whose_previous_entry_does_not_match_is_refused_and_changes_nothing(ulong prevTerm, ulong prevIndex)
    {
        var cluster = FollowerWithLog(commit: 1, 1, 1, 2);
        cluster.Stabilize();

        cluster.Node(3).Step(TestCluster.Append(from: 1, to: 3, term: 3, E(prevTerm, prevIndex), commit: 3, 3));
        Ready ready = cluster.TakeReady(3);

        SingleAppendAnswer(ready).Success.Should().BeFalse();
        ready.Entries.Should().BeEmpty();
        cluster.Status(3).Commit.Should().Be(I(1), "nothing after a mismatch is known to agree with the leader");
        cluster.StoredTerms(3).Should().Equal(1, 1, 2);
    }

    [Fact]
    public void An_append_whose_previous_entry_matches_is_accepted_and_acknowledged_up_to_its_last_entry()
    {
        var cluster = FollowerWithLog(commit: 1, 1, 1, 2);
        cluster.Stabilize();

        cluster.Node(3).Step(TestCluster.Append(from: 1, to: 3, term: 3, E(2, 3), commit: 0, 3, 3));
        cluster.ProcessReady(3);

        cluster.Sent.OfType<AppendResponse>().Should().ContainSingle().Which.Should()
            .Match<AppendResponse>(r => r.Success && r.Index == I(5) && r.Term == T(3));
        cluster.StoredTerms(3).Should().Equal(1, 1, 2, 3, 3);
    }

    [Fact]
    public void A_conflicting_suffix_is_truncated_and_replaced_by_the_leaders_entries()
    {
        var cluster = FollowerWithLog(commit: 1, 1, 1, 2, 2, 2);
        cluster.Stabilize();

        cluster.Node(3).Step(TestCluster.Append(from: 1, to: 3, term: 3, E(1, 2), commit: 0, 3));
        cluster.ProcessReady(3);

        cluster.StoredTerms(3).Should().Equal([1, 1, 3], "the entries after a conflict came from a deposed leader");
        cluster.Status(3).LastLog.Should().Be(E(3, 3));
    }

    [Fact]
    public void An_append_of_entries_the_follower_already_holds_does_not_truncate_what_follows_them()
    {
        var cluster = FollowerWithLog(commit: 1, 1, 1, 2, 2);
        cluster.Stabilize();

        // A delayed copy of an older append: it carries (2, 3) only; (2, 4) came in a later message.
        cluster.Node(3).Step(TestCluster.Append(from: 1, to: 3, term: 2, E(1, 2), commit: 0, 2));
        Ready ready = cluster.TakeReady(3);

        ready.Entries.Should().BeEmpty();
        SingleAppendAnswer(ready).Should().Match<AppendResponse>(r => r.Success && r.Index == I(3));
        cluster.Complete(3, ready);
        cluster.StoredTerms(3).Should().Equal(1, 1, 2, 2);
    }

    [Fact]
    public void A_follower_commits_up_to_the_leaders_commit_but_not_past_the_last_entry_of_the_append()
    {
        // 3 holds five entries of term 1, but only the first two are known to match the leader.
        var cluster = FollowerWithLog(commit: 0, 1, 1, 1, 1, 1);
        cluster.Stabilize();

        cluster.Node(3).Step(TestCluster.Append(from: 1, to: 3, term: 2, E(1, 1), commit: 5, 1));
        cluster.ProcessReady(3);

        cluster.Status(3).Commit.Should().Be(I(2), "Figure 2: commitIndex = min(leaderCommit, index of last new entry)");
        cluster.Applied(3).Select(e => e.Index).Should().Equal(I(1), I(2));
    }

    [Fact]
    public void A_follower_commits_what_the_leader_committed_when_the_next_append_or_heartbeat_says_so()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();

        cluster.TickAll(1);

        foreach (ReplicaId id in cluster.Ids)
        {
            cluster.Status(id.Value).Commit.Should().Be(x.Entry.Index);
            TestCluster.CommandOf(cluster.Applied(id.Value)[^1]).Should().Be("x");
        }
    }

    [Fact]
    public void A_heartbeat_never_lets_a_follower_commit_past_what_it_is_known_to_share_with_the_leader()
    {
        // Replica 3 holds three term-2 entries from a deposed leader at indexes 3..5; the others do not.
        var cluster = new TestCluster(3, preload: (id, storage) =>
            TestCluster.WriteLog(storage, term: 2, vote: 0, commit: 2, id == R(3) ? [1, 1, 2, 2, 2] : [1, 1]));
        cluster.DropIf = m => m is AppendRequest { To.Value: 3 };     // 3 only gets heartbeats
        cluster.Elect(1);
        for (int i = 0; i < 3; i++) cluster.Propose(1, $"w{i}");
        cluster.Stabilize();
        cluster.Status(1).Commit.Should().Be(I(6));

        cluster.TickAll(5);

        cluster.Status(3).Commit.Should().Be(I(2), "3's entries at 3..5 are not the leader's: committing them would apply the wrong commands");
        cluster.Applied(3).Should().OnlyContain(e => e.Term == T(1));
    }

    [Fact]
    public void Every_replica_applies_the_same_entries_in_index_order_exactly_once_across_leader_changes_and_restarts()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        for (int i = 0; i < 5; i++) cluster.Propose(1, $"a{i}");
        cluster.Stabilize();
        cluster.Isolate(1);
        cluster.Propose(1, "lost");                 // never reaches a majority
        cluster.Stabilize();
        cluster.Elect(2);
        for (int i = 0; i < 5; i++) cluster.Propose(2, $"b{i}");
        cluster.Stabilize();
        cluster.Crash(3);
        for (int i = 0; i < 3; i++) cluster.Propose(2, $"c{i}");
        cluster.Heal();
        cluster.Stabilize();
        cluster.Restart(3);
        cluster.TickAll(3);

        IReadOnlyList<Entry> reference = cluster.Applied(2);
        reference.Select(e => e.Index.Value).Should().Equal(Enumerable.Range(1, reference.Count).Select(i => (ulong)i));
        reference.Where(e => e.Kind == EntryKind.Command).Select(TestCluster.CommandOf).Should().Equal(
            "a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3", "b4", "c0", "c1", "c2");
        foreach (ReplicaId id in cluster.Ids)
        {
            IReadOnlyList<Entry> applied = cluster.Applied(id.Value);
            applied.Should().HaveCount(reference.Count, $"replica {id} applies each committed entry once");
            applied.Zip(reference).Should().OnlyContain(pair => pair.First.SameAs(pair.Second));
        }
    }

    [Fact]
    public void A_follower_whose_appends_were_all_lost_catches_up_from_heartbeats_without_a_new_proposal()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.TickAll(1);
        cluster.DropIf = m => m is AppendRequest { To.Value: 3 };
        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();                        // committed with 2; every append to 3 is lost
        cluster.Status(3).LastLog.Index.Should().BeLessThan(x.Entry.Index);
        cluster.DropIf = null;

        cluster.TickAll(3);

        // §5.3: the leader retries AppendEntries indefinitely until all followers eventually store all entries.
        cluster.Status(3).LastLog.Should().Be(x.Entry);
        cluster.Status(3).Commit.Should().Be(x.Entry.Index);
    }

    [Fact]
    public void A_follower_with_a_long_divergent_suffix_is_repaired_in_a_few_round_trips_not_one_per_entry()
    {
        // Indexes 3..102 hold term 3 on the leader-to-be and term 2 on replica 2.
        ulong[] Log(ulong suffixTerm) => [1, 1, .. Enumerable.Repeat(suffixTerm, 100)];
        var cluster = new TestCluster(3, preload: (id, storage) =>
            TestCluster.WriteLog(storage, term: 3, vote: 0, commit: 2, id == R(2) ? Log(2) : Log(3)));

        cluster.Elect(1);
        cluster.TickAll(1);

        int appendsTo2 = cluster.Sent.OfType<AppendRequest>().Count(m => m.To == R(2));
        appendsTo2.Should().BeLessThanOrEqualTo(5, "the follower's hint skips a whole term per round trip");
        cluster.StoredTerms(2).Should().Equal(cluster.StoredTerms(1));
        cluster.Status(2).Commit.Should().Be(I(103));
    }

    [Fact]
    public void A_follower_with_a_longer_log_of_an_older_term_is_repaired_in_a_few_round_trips()
    {
        // The leader-to-be ends at (3, 3); replica 2 has 100 entries of term 2 from index 3.
        var cluster = new TestCluster(3, preload: (id, storage) =>
            TestCluster.WriteLog(storage, term: 3, vote: 0, commit: 2,
                id == R(2) ? [1, 1, .. Enumerable.Repeat(2UL, 100)] : [1, 1, 3]));

        cluster.Elect(1);
        cluster.TickAll(1);

        cluster.Sent.OfType<AppendRequest>().Count(m => m.To == R(2)).Should().BeLessThanOrEqualTo(5);
        cluster.StoredTerms(2).Should().Equal(1, 1, 3, 4);
    }

    [Fact]
    public void A_follower_missing_many_entries_is_caught_up_in_a_few_round_trips()
    {
        var cluster = new TestCluster(3, preload: (id, storage) =>
            TestCluster.WriteLog(storage, term: 3, vote: 0, commit: 2,
                id == R(2) ? [1, 1] : [1, 1, .. Enumerable.Repeat(3UL, 100)]));

        cluster.Elect(1);
        cluster.TickAll(1);

        cluster.Sent.OfType<AppendRequest>().Count(m => m.To == R(2)).Should().BeLessThanOrEqualTo(5);
        cluster.StoredTerms(2).Should().Equal(cluster.StoredTerms(1));
    }
}
