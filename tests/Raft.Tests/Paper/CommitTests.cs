namespace KvActors.Raft.Tests.Paper;

/// <summary>§5.3 and §5.4.2: when an entry is committed, and Figure 8's reason for the rule about earlier terms.</summary>
public sealed class CommitTests
{
    [Fact]
    public void An_entry_stored_on_a_majority_is_committed()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        cluster.Isolate(4);
        cluster.Isolate(5);

        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();

        cluster.Status(1).Commit.Should().Be(x.Entry.Index, "1, 2 and 3 are three of five");
        TestCluster.CommandOf(cluster.Applied(1)[^1]).Should().Be("x");
    }

    [Fact]
    public void An_entry_stored_on_a_minority_is_not_committed()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Isolate(4);
        cluster.Isolate(5);

        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();
        cluster.TickAll(5);

        cluster.Status(2).LastLog.Should().Be(x.Entry, "2 holds it");
        cluster.Status(1).Commit.Should().BeLessThan(x.Entry.Index, "two of five is not a majority");
        cluster.Applied(1).Should().NotContain(e => e.Id == x.Entry);
    }

    [Fact]
    public void An_entry_whose_acknowledgements_were_all_lost_is_committed_from_heartbeats_without_a_new_proposal()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.TickAll(1);
        cluster.DropIf = m => m is AppendResponse { To.Value: 1 };
        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();                        // 2 and 3 hold x; the leader never hears so
        cluster.Status(2).LastLog.Should().Be(x.Entry);
        cluster.Status(1).Commit.Should().BeLessThan(x.Entry.Index);
        cluster.DropIf = null;

        cluster.TickAll(3);

        // §5.3: the leader retries until it knows the followers store the entry, so the client's write commits.
        cluster.Status(1).Commit.Should().Be(x.Entry.Index);
    }

    [Fact]
    public void A_single_replica_commits_its_own_entries_once_written_and_serves_reads_alone()
    {
        var cluster = new TestCluster(1);
        cluster.Campaign(1);
        cluster.Status(1).Role.Should().Be(Role.Leader);

        ProposeResult x = cluster.Propose(1, "x");
        cluster.Node(1).ReadIndex(new ReadContext(9));
        cluster.Stabilize();

        cluster.Status(1).Commit.Should().Be(x.Entry.Index);
        TestCluster.CommandOf(cluster.Applied(1)[^1]).Should().Be("x");
        cluster.ReadStates(1).Should().ContainSingle().Which.Context.Should().Be(new ReadContext(9));
    }

    [Fact]
    public void A_leader_does_not_count_an_acknowledgement_from_a_replica_outside_its_configuration()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        cluster.Isolate(1);
        ProposeResult x = cluster.Propose(1, "x");
        cluster.Stabilize();                      // written on 1 only

        cluster.Node(1).Step(new AppendResponse(R(4), R(1), term, true, x.Entry.Index, default));
        cluster.Node(1).Step(new AppendResponse(R(7), R(1), term, true, x.Entry.Index, default));
        cluster.Stabilize();

        cluster.Status(1).Commit.Should().BeLessThan(x.Entry.Index, "4 and 7 are not voters: only 1 of 3 voters holds the entry");

        cluster.Node(1).Step(new AppendResponse(R(2), R(1), term, true, x.Entry.Index, default));
        cluster.Stabilize();

        cluster.Status(1).Commit.Should().Be(x.Entry.Index, "the same acknowledgement from a voter does count");
    }

    [Fact]
    public void A_new_leader_commits_entries_of_earlier_terms_once_its_own_no_op_is_committed()
    {
        // Every replica holds two uncommitted entries of term 1.
        var cluster = new TestCluster(3, preload: (id, storage) => TestCluster.WriteLog(storage, term: 1, vote: 0, commit: 0, 1, 1));

        Term term = cluster.Elect(2);
        cluster.TickAll(1);

        cluster.Status(2).Commit.Should().Be(I(3));
        cluster.Applied(1).Select(e => e.Id).Should().Equal(E(1, 1), E(1, 2), E(term.Value, 3));
    }

    // ---- Figure 8 ----
    //
    //        index:  1  2  3
    //   (a)  S1      1  2          S1 led term 2 and wrote (2, 2) to itself and S2, then crashed.
    //        S2      1  2
    //        S3      1             S3 and S4 voted for S5 in term 3.
    //        S4      1
    //   (b)  S5      1  3          S5 led term 3, wrote (3, 2) to itself only, then crashed.
    //
    //   (c)  S1 comes back and leads term 4, and brings (2, 2) to S3: the term-2 entry is on a majority.

    private static TestCluster Figure8()
    {
        // One entry per append, so that S3 can receive (2, 2) without (4, 3).
        var cluster = new TestCluster(5, configure: c => c with { MaxAppendEntries = 1 }, preload: (id, storage) =>
        {
            switch (id.Value)
            {
                case 1: case 2: TestCluster.WriteLog(storage, term: 2, vote: 1, commit: 1, 1, 2); break;
                case 3: case 4: TestCluster.WriteLog(storage, term: 3, vote: 5, commit: 1, 1); break;
                default: TestCluster.WriteLog(storage, term: 3, vote: 5, commit: 1, 1, 3); break;
            }
        });
        cluster.Isolate(5);         // S5 is down
        cluster.Cut(1, 4);          // S4 hears nothing from S1
        // Once S3 holds the term-2 entry, every append that would bring it S1's term-4 entry is lost.
        cluster.DropIf = m => m is AppendRequest { To.Value: 3 } a && a.Entries.Any(e => e.Term == T(4))
            && cluster.Storage(3).LastIndex() >= I(2);
        return cluster;
    }

    [Fact]
    public void Figure_8_a_leader_does_not_commit_an_entry_of_an_earlier_term_that_a_majority_holds()
    {
        var cluster = Figure8();

        Term term = cluster.Elect(1);
        cluster.TickAll(3);

        term.Should().Be(T(4));
        cluster.StoredTerms(1).Should().Equal(1, 2, 4);
        cluster.StoredTerms(2).Should().Equal(1, 2, 4);
        cluster.StoredTerms(3).Should().Equal(1, 2);
        // (2, 2) is on S1, S2 and S3 — three of five — and still not committed: §5.4.2.
        foreach (ulong id in new ulong[] { 1, 2, 3 })
        {
            cluster.Status(id).Commit.Should().Be(I(1), $"S{id} must not treat (2, 2) as committed");
            cluster.Applied(id).Should().NotContain(e => e.Index == I(2));
        }
    }

    [Fact]
    public void Figure_8_the_earlier_term_entry_is_committed_together_with_the_leaders_own_entry_once_that_is_on_a_majority()
    {
        var cluster = Figure8();
        cluster.Elect(1);
        cluster.TickAll(3);
        cluster.Status(1).Commit.Should().Be(I(1));

        cluster.Heal();             // S4 can now take (2, 2) and (4, 3); S5 stays down
        cluster.Isolate(5);
        cluster.TickAll(3);

        cluster.Status(1).Commit.Should().Be(I(3));
        cluster.CommitHistory(1).Should().NotContain(I(2), "the commit index jumps from 1 to 3: (2, 2) never commits by counting");
        cluster.Applied(1).Select(e => e.Id).Should().Equal(E(1, 1), E(2, 2), E(4, 3));

        // Now S5 cannot win: a majority holds an entry of term 4.
        cluster.Heal();
        for (int i = 0; i < 3; i++) cluster.Campaign(5);
        cluster.Status(5).Role.Should().NotBe(Role.Leader);
    }

    [Fact]
    public void Figure_8_if_the_term_3_leader_wins_instead_it_overwrites_the_earlier_term_entry_that_a_majority_held()
    {
        var cluster = Figure8();
        cluster.Elect(1);
        cluster.TickAll(3);
        cluster.StoredTerms(3).Should().Equal(1, 2);

        // (d) S1 crashes; S5 comes back and is elected with the votes of S3 and S4.
        cluster.Crash(1);
        cluster.Heal();
        cluster.DropIf = null;
        Term term = cluster.Elect(5);
        cluster.TickAll(3);

        term.Should().BeGreaterThan(T(4));
        foreach (ulong id in new ulong[] { 2, 3, 4, 5 })
        {
            cluster.StoredLog(id)[1].Id.Should().Be(E(3, 2), $"S{id}'s index 2 now holds S5's term-3 entry");
            cluster.Applied(id).Should().Contain(e => e.Id == E(3, 2)).And.NotContain(e => e.Id == E(2, 2));
        }
        // Had S1 committed (2, 2) by counting replicas in (c), index 2 would now be committed twice, differently.
    }
}
