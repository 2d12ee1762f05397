using KvActors.Raft;
using KvActors.Raft.Ids;

namespace KvActors.Node.Replica;

/// <summary>Timer: advance the Raft core's clock by one tick.</summary>
public sealed record TickRaft
{
    /// <summary>The only instance.</summary>
    public static TickRaft Instance { get; } = new();
}

/// <summary>Self-message: take and handle the core's Ready. At most one is queued, so commands in between batch.</summary>
public sealed record DrainReady
{
    /// <summary>The only instance.</summary>
    public static DrainReady Instance { get; } = new();
}

/// <summary>Timer: fail client requests whose deadline passed.</summary>
public sealed record SweepDeadlines
{
    /// <summary>The only instance.</summary>
    public static SweepDeadlines Instance { get; } = new();
}

/// <summary>Asks a replica for a <see cref="ReplicaStatus"/>.</summary>
public sealed record GetReplicaStatus
{
    /// <summary>The only instance.</summary>
    public static GetReplicaStatus Instance { get; } = new();
}

/// <summary>A replica's view of itself, for operators and tests.</summary>
/// <param name="Shard">The shard this replica belongs to.</param>
/// <param name="Raft">Role, term, leader, commit and applied index of its core.</param>
/// <param name="Membership">The configuration it uses.</param>
/// <param name="SnapshotIndex">The last log index covered by its latest snapshot (0 if none).</param>
/// <param name="JournalWrites">Journal writes (one per Ready with something to persist) since it started.</param>
/// <param name="EntriesWritten">Log entries persisted since it started.</param>
/// <param name="Snapshots">The snapshots it took since it started, and what they cost.</param>
public sealed record ReplicaStatus(int Shard, RaftStatus Raft, Membership Membership, LogIndex SnapshotIndex,
    long JournalWrites, long EntriesWritten, SnapshotStats Snapshots);

/// <summary>What a replica's own snapshots cost since it started.</summary>
/// <param name="Taken">Snapshots taken.</param>
/// <param name="SavedCount">Snapshots the store confirmed written.</param>
/// <param name="LastPause">How long the last one stopped the replica (copying the state machine).</param>
/// <param name="MaxPause">The longest such stop.</param>
/// <param name="MaxSave">The longest time from taking a snapshot to the store confirming it.</param>
/// <param name="LastBytes">The size of the last state machine image.</param>
public sealed record SnapshotStats(long Taken, long SavedCount, TimeSpan LastPause, TimeSpan MaxPause, TimeSpan MaxSave, long LastBytes)
{
    /// <summary>No snapshot yet.</summary>
    public static SnapshotStats None { get; } = new(0, 0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0);

    /// <summary>These stats plus one snapshot taken, which paused the replica for <paramref name="pause"/>.</summary>
    public SnapshotStats WithTaken(TimeSpan pause, long bytes) =>
        this with { Taken = Taken + 1, LastPause = pause, MaxPause = pause > MaxPause ? pause : MaxPause, LastBytes = bytes };

    /// <summary>These stats plus one snapshot saved <paramref name="took"/> after it was taken.</summary>
    public SnapshotStats WithSaved(TimeSpan took) => this with { SavedCount = SavedCount + 1, MaxSave = took > MaxSave ? took : MaxSave };
}

/// <summary>What a replica tells its parent (<see cref="ReplicaHost"/>) when it becomes leader of its shard or stops leading.</summary>
public sealed record ReplicaLeadership(int Shard, bool Leading);
