using System.Buffers.Binary;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// One simulated replica: its "disk" (a <see cref="MemoryRaftStorage"/> that survives crashes), its core (gone
/// while crashed), the Ready it is writing (lost by a crash), and its in-memory state machine (rebuilt on restart
/// from the disk's snapshot, then by applying the log again). An id is never reused: a replica with an empty disk
/// is always a new <see cref="SimNode"/> with a new id.
/// </summary>
public sealed class SimNode(ReplicaId id, Membership membership)
{
    public ReplicaId Id { get; } = id;
    public MemoryRaftStorage Disk { get; } = new(membership);
    public RaftNode? Raft { get; private set; }
    public Ready? Writing { get; set; }
    public int Restarts { get; private set; }

    /// <summary>The state machine: the command ids applied, in order (0 for a no-op).</summary>
    public List<ulong> Applied { get; } = [];

    public LogIndex AppliedIndex => new((ulong)Applied.Count);

    /// <summary>Accepted proposals waiting to be applied here: entry id → command id.</summary>
    public Dictionary<EntryId, ulong> PendingProposals { get; } = new();

    /// <summary>Reads confirmed by ReadIndex and waiting for the state machine to reach their index.</summary>
    public List<(ReadContext Context, LogIndex Index)> ConfirmedReads { get; } = [];

    public bool IsUp => Raft is not null;

    /// <summary>This replica applied a committed configuration that includes it (or is one of the initial voters).</summary>
    public bool AppliedMembership { get; set; }

    /// <summary>After that, it applied one that does not include it: it must never lead again.</summary>
    public bool AppliedOwnRemoval { get; set; }

    /// <summary>Stopped for good: it was removed from the group and its data deleted.</summary>
    public bool IsRetired { get; private set; }

    public void Start(FaultProfile profile, ulong seed)
    {
        Snapshot snapshot = Disk.Snapshot();
        RestoreStateMachine(snapshot);
        Raft = new RaftNode(new RaftConfig
        {
            Id = Id,
            ElectionTimeoutTicks = 10,
            HeartbeatIntervalTicks = 1,
            PreVote = profile.PreVote,
            CheckQuorum = profile.CheckQuorum,
            MaxAppendEntries = profile.MaxAppendEntries,
            MaxAppendBytes = 64 * 1024,
            MaxInflightAppends = profile.MaxInflightAppends,
            MaxUncommittedBytes = profile.MaxUncommittedBytes,
            MaxSnapshotChunkBytes = profile.MaxSnapshotChunkBytes,
            MaxLearnerLagEntries = 8,
            Applied = snapshot.Metadata.Last.Index,
            RandomSeed = seed * 1_000_003UL + Id.Value * 7919UL + (ulong)Restarts,
        }, Disk);
        Restarts++;
    }

    public void Crash()
    {
        Raft = null;
        Writing = null;           // the write in flight never reached the disk
        Applied.Clear();
        PendingProposals.Clear(); // their clients time out: outcome unknown
        ConfirmedReads.Clear();
    }

    /// <summary>Rebuilds the state machine from a snapshot's image; the log after it is applied again on top.</summary>
    public void RestoreStateMachine(Snapshot snapshot)
    {
        Applied.Clear();
        Applied.AddRange(DecodeImage(snapshot.Data.Span));
        AppliedMembership = snapshot.Metadata.Membership.IsMember(Id);
        AppliedOwnRemoval = false;
    }

    public void Retire()
    {
        Crash();
        IsRetired = true;
    }

    /// <summary>The state machine image a snapshot carries: the command ids applied, 8 bytes each.</summary>
    public byte[] Image(LogIndex upTo)
    {
        var bytes = new byte[checked((int)upTo.Value * 8)];
        for (int i = 0; i < (int)upTo.Value; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), Applied[i]);
        return bytes;
    }

    public static ulong[] DecodeImage(ReadOnlySpan<byte> image)
    {
        var ids = new ulong[image.Length / 8];
        for (int i = 0; i < ids.Length; i++) ids[i] = BinaryPrimitives.ReadUInt64LittleEndian(image[(i * 8)..]);
        return ids;
    }

    public static byte[] Command(ulong commandId)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, commandId);
        return bytes;
    }

    public static ulong CommandIdOf(Entry entry) =>
        entry.Kind == EntryKind.Command ? BinaryPrimitives.ReadUInt64LittleEndian(entry.Data.Span) : 0;
}
