using KvActors.Raft.Ids;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvActors.Raft;

/// <summary>
/// How one replica's Raft core behaves. Time is counted in ticks: the shell calls <see cref="RaftNode.Tick"/> at a
/// fixed interval, and every timeout here is a number of those calls. Check it with <see cref="Validate"/>.
/// </summary>
public sealed record RaftConfig
{
    /// <summary>This replica's id. Never <see cref="ReplicaId.None"/>.</summary>
    public required ReplicaId Id { get; init; }

    /// <summary>
    /// Ticks without hearing from a leader before a follower campaigns. Each election draws its actual timeout
    /// at random from [this, 2 × this) so that candidates rarely collide (§5.2). Also the CheckQuorum period.
    /// </summary>
    public int ElectionTimeoutTicks { get; init; } = 10;

    /// <summary>Ticks between a leader's heartbeats. Must be less than <see cref="ElectionTimeoutTicks"/>.</summary>
    public int HeartbeatIntervalTicks { get; init; } = 1;

    /// <summary>
    /// Ask "would you vote for me?" before starting a real election, so that a replica that was cut off does not
    /// depose a healthy leader by bumping the term when it comes back (dissertation §9.6).
    /// </summary>
    public bool PreVote { get; init; } = true;

    /// <summary>
    /// A leader that has not heard from a quorum within an election timeout steps down, and a follower that heard
    /// from a leader within the last election timeout ignores vote requests (dissertation §6.2, §4.2.3).
    /// </summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Most entries in one append message (at least one entry is always sent).</summary>
    public int MaxAppendEntries { get; init; } = 256;

    /// <summary>Most bytes of entries in one append message (one larger entry is still sent alone).</summary>
    public long MaxAppendBytes { get; init; } = 1024 * 1024;

    /// <summary>Most append messages in flight to one follower before the leader waits for answers.</summary>
    public int MaxInflightAppends { get; init; } = 64;

    /// <summary>Most bytes of entries in flight to one follower before the leader waits for answers.</summary>
    public long MaxInflightBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Most bytes of entries a leader holds appended but not yet committed. Past it, proposals are refused with
    /// <see cref="RequestStatus.TooBusy"/> instead of growing memory (one proposal is always taken when none is pending).
    /// </summary>
    public long MaxUncommittedBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Most bytes of snapshot data in one InstallSnapshot message.</summary>
    public int MaxSnapshotChunkBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest snapshot a follower accepts from a leader; a larger one is refused and logged.</summary>
    public long MaxSnapshotBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>How far (in entries) a learner may trail the leader's last index and still be promoted to voter.</summary>
    public int MaxLearnerLagEntries { get; init; } = 64;

    /// <summary>Most bytes of committed entries handed out in one <see cref="Ready"/> for applying.</summary>
    public long MaxApplyBytesPerReady { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// The last index the shell's state machine has already applied when this core starts (0 for a state machine
    /// rebuilt from nothing). Committed entries after it come out in <see cref="Ready.CommittedEntries"/>.
    /// </summary>
    public LogIndex Applied { get; init; }

    /// <summary>Seeds the draw of randomized election timeouts. Give every replica its own.</summary>
    public ulong RandomSeed { get; init; }

    /// <summary>Where the core says what happened (elections, step-downs). Should name the shard.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (!Id.IsSome) throw new ArgumentException("Id must not be 0 (0 means \"nobody\")", nameof(Id));
        if (HeartbeatIntervalTicks < 1)
            throw new ArgumentException($"HeartbeatIntervalTicks is {HeartbeatIntervalTicks}; it must be at least 1", nameof(HeartbeatIntervalTicks));
        if (ElectionTimeoutTicks <= HeartbeatIntervalTicks)
            throw new ArgumentException($"ElectionTimeoutTicks is {ElectionTimeoutTicks}; it must be greater than HeartbeatIntervalTicks ({HeartbeatIntervalTicks})", nameof(ElectionTimeoutTicks));
        if (MaxAppendEntries < 1)
            throw new ArgumentException($"MaxAppendEntries is {MaxAppendEntries}; it must be at least 1", nameof(MaxAppendEntries));
        if (MaxAppendBytes < 1)
            throw new ArgumentException($"MaxAppendBytes is {MaxAppendBytes}; it must be at least 1", nameof(MaxAppendBytes));
        if (MaxInflightAppends < 1)
            throw new ArgumentException($"MaxInflightAppends is {MaxInflightAppends}; it must be at least 1", nameof(MaxInflightAppends));
        if (MaxInflightBytes < 1)
            throw new ArgumentException($"MaxInflightBytes is {MaxInflightBytes}; it must be at least 1", nameof(MaxInflightBytes));
        if (MaxUncommittedBytes < 1)
            throw new ArgumentException($"MaxUncommittedBytes is {MaxUncommittedBytes}; it must be at least 1", nameof(MaxUncommittedBytes));
        if (MaxSnapshotChunkBytes < 1)
            throw new ArgumentException($"MaxSnapshotChunkBytes is {MaxSnapshotChunkBytes}; it must be at least 1", nameof(MaxSnapshotChunkBytes));
        if (MaxSnapshotBytes < 1 || MaxSnapshotBytes > Array.MaxLength)
            throw new ArgumentException($"MaxSnapshotBytes is {MaxSnapshotBytes}; it must be in [1, {Array.MaxLength}]", nameof(MaxSnapshotBytes));
        if (MaxLearnerLagEntries < 0)
            throw new ArgumentException($"MaxLearnerLagEntries is {MaxLearnerLagEntries}; it must not be negative", nameof(MaxLearnerLagEntries));
        if (MaxApplyBytesPerReady < 1)
            throw new ArgumentException($"MaxApplyBytesPerReady is {MaxApplyBytesPerReady}; it must be at least 1", nameof(MaxApplyBytesPerReady));
    }
}
