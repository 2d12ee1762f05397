using static KvActors.Raft.Tests.Harness.MembershipSteps;

namespace KvActors.Raft.Tests.Paper;

/// <summary>
/// §7 and Figure 13: a replica compacts its log into a snapshot; a follower that needs compacted entries is sent the
/// snapshot (InstallSnapshot) in chunks, restores it, and continues by log; a restarted replica starts from its
/// snapshot and the log after it.
/// </summary>
public sealed class SnapshotTests
{
    private const int ChunkBytes = 64;

    /// <summary>
    /// Voters 1, 2, 3 led by 1, snapshots sent in chunks of <see cref="ChunkBytes"/>. Replica 3 is cut off and paused
    /// while eight commands commit (and while <paramref name="whileCutOff"/> runs); then 1 compacts everything it
    /// applied and commits two more commands that stay in its log. The message log starts empty.
    /// </summary>
    private static (TestCluster Cluster, Snapshot Snapshot) LaggingFollower(Action<TestCluster>? whileCutOff = null)
    {
        var cluster = new TestCluster(3, configure: c => c with { MaxSnapshotChunkBytes = ChunkBytes });
        cluster.Elect(1);
        cluster.TickAll(1);
        cluster.Isolate(3);
        cluster.Freeze(3);
        for (int i = 0; i < 8; i++) cluster.Propose(1, $"command-{i}");
        cluster.Stabilize();
        whileCutOff?.Invoke(cluster);
        Snapshot snapshot = cluster.CompactAll(1);
        for (int i = 0; i < 2; i++) cluster.Propose(1, $"tail-{i}");
        cluster.Stabilize();
        cluster.ClearMessageLog();
        return (cluster, snapshot);
    }

    private static void Reconnect3(TestCluster cluster)
    {
        cluster.Heal();
        cluster.Thaw(3);
    }

    private static List<SnapshotRequest> ChunksSent(TestCluster cluster, ulong from, ulong to = 3) =>
        cluster.Sent.OfType<SnapshotRequest>().Where(r => r.From == R(from) && r.To == R(to)).ToList();

    private static void RequireSameStateMachine(TestCluster cluster, ulong id, ulong asId)
    {
        cluster.Applied(id).Should().HaveSameCount(cluster.Applied(asId));
        cluster.Applied(id).Zip(cluster.Applied(asId)).Should().OnlyContain(pair => pair.First.SameAs(pair.Second),
            $"replica {id}'s state machine must equal replica {asId}'s");
    }

    [Fact]
    public void A_lagging_follower_gets_the_snapshot_in_chunks_of_at_most_MaxSnapshotChunkBytes_then_the_rest_by_log()
    {
        (TestCluster cluster, Snapshot snapshot) = LaggingFollower();
        snapshot.Data.Length.Should().BeGreaterThan(3 * ChunkBytes, "the image must take several chunks");

        Reconnect3(cluster);
        cluster.TickAll(1);

        List<SnapshotRequest> chunks = ChunksSent(cluster, from: 1);
        chunks.Should().OnlyContain(c => c.Chunk.Length <= ChunkBytes && c.Metadata == snapshot.Metadata
            && c.TotalBytes == snapshot.Data.Length);
        chunks.Select(c => c.Offset).Should().Equal(
            Enumerable.Range(0, chunks.Count).Select(i => (long)i * ChunkBytes), "each chunk once, in order");
        chunks.SelectMany(c => c.Chunk.ToArray()).Should().Equal(snapshot.Data.ToArray());

        cluster.Storage(3).Snapshot().Metadata.Should().Be(snapshot.Metadata);
        cluster.Storage(3).Snapshot().Data.ToArray().Should().Equal(snapshot.Data.ToArray());
        cluster.StoredLog(3).Select(e => TestCluster.CommandOf(e)).Should().Equal(["tail-0", "tail-1"], "the rest came by log");
        cluster.Sent.OfType<AppendRequest>().Should().Contain(a => a.To == R(3) && a.Prev == snapshot.Metadata.Last && a.Entries.Length == 2);
        RequireSameStateMachine(cluster, 3, asId: 1);
    }

    [Fact]
    public void A_lost_chunk_is_resent_and_the_transfer_resumes_from_the_followers_offset_instead_of_restarting()
    {
        (TestCluster cluster, Snapshot snapshot) = LaggingFollower();
        bool dropped = false;
        cluster.DropIf = m =>
        {
            if (dropped || m is not SnapshotRequest { Offset: 2 * ChunkBytes }) return false;
            dropped = true;
            return true;
        };
        Reconnect3(cluster);

        cluster.TickAll(1);

        dropped.Should().BeTrue();
        cluster.Storage(3).Snapshot().Metadata.Last.Index.Should().Be(I(0), "the transfer stalls on the lost chunk");

        cluster.TickAll(1);                       // a heartbeat answer with no chunk acknowledged since the last one
        cluster.Storage(3).Snapshot().Metadata.Last.Index.Should().Be(I(0), "one silent heartbeat interval is not yet a stall");
        cluster.TickAll(1);                       // the next one: the leader resends the lost chunk

        cluster.Storage(3).Snapshot().Metadata.Should().Be(snapshot.Metadata);
        List<SnapshotRequest> chunks = ChunksSent(cluster, from: 1);
        chunks.Count(c => c.Offset == 0).Should().Be(1, "the transfer never restarted");
        chunks.Count(c => c.Offset == 2 * ChunkBytes).Should().Be(2, "only the lost chunk was sent again");
        chunks.Sum(c => (long)c.Chunk.Length).Should().Be(snapshot.Data.Length + ChunkBytes);
        RequireSameStateMachine(cluster, 3, asId: 1);
    }

    [Fact]
    public void After_a_leader_change_mid_transfer_the_follower_discards_the_partial_snapshot_and_takes_the_new_leaders_from_offset_zero()
    {
        (TestCluster cluster, _) = LaggingFollower();
        Snapshot newLeaders = cluster.CompactAll(2);                     // a later index than 1's snapshot
        cluster.DropIf = m => m is SnapshotRequest { Offset: >= 2 * ChunkBytes } && m.From == R(1);
        Reconnect3(cluster);
        cluster.TickAll(1);
        cluster.Delivered.OfType<SnapshotRequest>().Select(c => c.Offset).Should().Equal(0, ChunkBytes);
        cluster.Isolate(1);
        cluster.ClearMessageLog();

        cluster.Elect(2);

        ChunksSent(cluster, from: 2).Should().NotBeEmpty().And.Subject.First().Offset.Should().Be(0);
        cluster.Sent.OfType<SnapshotResponse>().First(r => r.From == R(3)).NextOffset.Should().Be(ChunkBytes,
            "the two chunks from the old leader were discarded");
        cluster.Storage(3).Snapshot().Metadata.Should().Be(newLeaders.Metadata);
        cluster.Storage(3).Snapshot().Data.ToArray().Should().Equal(newLeaders.Data.ToArray());
        cluster.TickAll(1);
        RequireSameStateMachine(cluster, 3, asId: 2);
    }

    [Fact]
    public void A_restored_snapshot_carries_its_last_index_term_and_membership()
    {
        (TestCluster cluster, Snapshot snapshot) = LaggingFollower(whileCutOff: c =>
        {
            c.AddReplica(4);
            c.ChangeMembership(1, ConfigChange.AddLearner(R(4)));
        });
        snapshot.Metadata.Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]));
        snapshot.Metadata.Last.Should().Be(new EntryId(cluster.Status(1).Term, snapshot.Metadata.Last.Index));

        Reconnect3(cluster);
        cluster.TickAll(1);

        cluster.Storage(3).Snapshot().Metadata.Should().Be(snapshot.Metadata);
        cluster.Storage(3).FirstIndex().Should().Be(snapshot.Metadata.Last.Index.Next());
        cluster.Storage(3).TermAt(snapshot.Metadata.Last.Index).Should().Be(snapshot.Metadata.Last.Term);
        cluster.Node(3).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]),
            "replica 3 never saw the configuration entry, only the snapshot");
        cluster.Status(3).Commit.Should().Be(cluster.Status(1).Commit);
        cluster.Status(3).Applied.Should().Be(cluster.Status(1).Applied);
    }

    [Fact]
    public void A_snapshot_no_newer_than_the_followers_commit_index_is_acknowledged_without_being_restored()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        for (int i = 0; i < 3; i++) cluster.Propose(1, $"c{i}");
        cluster.Stabilize();
        cluster.TickAll(1);
        LogIndex commit = cluster.Status(3).Commit;
        byte[] image = [1, 2, 3, 4];
        var metadata = new SnapshotMetadata(new EntryId(term, commit.Previous()), cluster.Node(3).Membership);

        cluster.Node(3).Step(new SnapshotRequest(R(1), R(3), term, metadata, 0, image, image.Length));
        Ready ready = cluster.TakeReady(3);

        ready.Snapshot.Should().BeNull();
        ready.Messages.OfType<AppendResponse>().Should().ContainSingle()
            .Which.Should().Match<AppendResponse>(r => r.Success && r.Index == commit && r.To == R(1));
        cluster.Complete(3, ready);
        cluster.Storage(3).Snapshot().Metadata.Last.Should().Be(default(EntryId));
        cluster.Status(3).Commit.Should().Be(commit);
    }

    [Fact]
    public void No_snapshot_can_be_taken_at_a_compacted_index_or_at_one_not_yet_applied()
    {
        var cluster = new TestCluster(3);
        Term term = cluster.Elect(1);
        for (int i = 0; i < 4; i++) cluster.Propose(1, $"c{i}");
        cluster.Stabilize();
        LogIndex applied = cluster.Status(1).Applied;
        ProposeResult unapplied = cluster.Propose(1, "not yet applied");

        cluster.Node(1).SnapshotMetadataAt(unapplied.Entry.Index).Should().BeNull();
        cluster.Node(1).SnapshotMetadataAt(applied).Should().Be(new SnapshotMetadata(new EntryId(term, applied), cluster.Node(1).Membership));

        cluster.Compact(1, applied.Value - 1);

        cluster.Node(1).SnapshotMetadataAt(applied.Previous().Previous()).Should().BeNull("it is compacted");
        cluster.Node(1).SnapshotMetadataAt(applied.Previous()).Should().NotBeNull("the snapshot's own index still has its term");
        cluster.Node(1).SnapshotMetadataAt(applied).Should().NotBeNull();
    }

    [Fact]
    public void A_replica_restarts_from_its_snapshot_and_log_with_the_right_commit_and_applied_index()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        for (int i = 0; i < 5; i++) cluster.Propose(1, $"c{i}");
        cluster.Stabilize();
        cluster.TickAll(1);
        Snapshot snapshot = cluster.CompactAll(2);
        for (int i = 0; i < 3; i++) cluster.Propose(1, $"d{i}");
        cluster.Stabilize();
        cluster.TickAll(1);
        LogIndex commit = cluster.Status(2).Commit;
        commit.Should().BeGreaterThan(snapshot.Metadata.Last.Index);

        cluster.Crash(2);
        cluster.RestartFromDisk(2);

        cluster.Status(2).Commit.Should().Be(commit);
        cluster.Status(2).Applied.Should().Be(snapshot.Metadata.Last.Index);
        cluster.Node(2).Membership.Should().Be(Config(voters: [1, 2, 3]));
        Ready ready = cluster.TakeReady(2);
        ready.Snapshot.Should().BeNull("the snapshot on disk is already restored");
        ready.CommittedEntries.Select(e => e.Index).Should().Equal(
            Enumerable.Range(1, (int)(commit.Value - snapshot.Metadata.Last.Index.Value))
                .Select(i => snapshot.Metadata.Last.Index.Plus((ulong)i)));
        cluster.Complete(2, ready);
        cluster.Stabilize();
        RequireSameStateMachine(cluster, 2, asId: 1);
    }

    [Fact]
    public void A_replica_added_with_an_empty_disk_after_compaction_catches_up_from_the_snapshot_and_can_be_promoted()
    {
        var cluster = new TestCluster(3, configure: c => c with { MaxSnapshotChunkBytes = ChunkBytes });
        cluster.Elect(1);
        for (int i = 0; i < 8; i++) cluster.Propose(1, $"command-{i}");
        cluster.Stabilize();
        Snapshot snapshot = cluster.CompactAll(1);
        cluster.ClearMessageLog();

        cluster.AddLearner(leader: 1, learner: 4);

        ChunksSent(cluster, from: 1, to: 4).Should().HaveCountGreaterThan(1);
        cluster.Storage(4).Snapshot().Metadata.Should().Be(snapshot.Metadata);
        cluster.Node(4).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]), "from the entry after the snapshot");
        RequireSameStateMachine(cluster, 4, asId: 1);

        cluster.ChangeMembership(1, ConfigChange.Promote(R(4)));
        cluster.TickAll(1);
        cluster.Node(4).Membership.Should().Be(Config(voters: [1, 2, 3, 4]));
    }

    [Fact]
    public void No_snapshot_can_be_taken_while_a_snapshot_from_the_leader_waits_to_be_written()
    {
        (TestCluster cluster, Snapshot snapshot) = LaggingFollower();
        cluster.HoldIf = m => m is SnapshotRequest { IsLast: true };
        Reconnect3(cluster);
        cluster.TickAll(1);
        LogIndex applied = cluster.Status(3).Applied;
        cluster.Node(3).SnapshotMetadataAt(applied).Should().NotBeNull("its own applied state can be snapshotted");

        cluster.Node(3).Step(cluster.Held.Single());
        Ready ready = cluster.TakeReady(3);

        ready.Snapshot.Should().NotBeNull();
        cluster.Node(3).SnapshotMetadataAt(applied).Should().BeNull("the log it would describe is being replaced");
        cluster.Complete(3, ready);
        cluster.Node(3).SnapshotMetadataAt(snapshot.Metadata.Last.Index).Should().Be(snapshot.Metadata);
    }

    [Fact]
    public void A_follower_restarted_after_restoring_its_leaders_snapshot_starts_from_that_snapshot_and_the_log_after_it()
    {
        (TestCluster cluster, Snapshot snapshot) = LaggingFollower(whileCutOff: c =>
        {
            c.AddReplica(4);
            c.ChangeMembership(1, ConfigChange.AddLearner(R(4)));
        });
        Reconnect3(cluster);
        cluster.TickAll(2);
        LogIndex commit = cluster.Status(3).Commit;
        commit.Should().BeGreaterThan(snapshot.Metadata.Last.Index);

        cluster.Crash(3);
        cluster.RestartFromDisk(3);

        cluster.Status(3).Should().Match<RaftStatus>(s => s.Commit == commit && s.Applied == snapshot.Metadata.Last.Index);
        cluster.Node(3).Membership.Should().Be(Config(voters: [1, 2, 3], learners: [4]));
        cluster.Stabilize();
        RequireSameStateMachine(cluster, 3, asId: 1);
    }
}
