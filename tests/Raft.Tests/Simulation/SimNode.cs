using System.Buffers.Binary;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// One simulated replica: its "disk" (a <see cref="MemoryRaftStorage"/> that survives crashes), its core (gone
/// while crashed), the Ready it is writing (lost by a crash), and its in-memory state machine (rebuilt on restart by
/// applying the log again).
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

    public void Start(FaultProfile profile, ulong seed)
    {
        Applied.Clear();
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

    public static byte[] Command(ulong commandId)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, commandId);
        return bytes;
    }

    public static ulong CommandIdOf(Entry entry) =>
        entry.Kind == EntryKind.Command ? BinaryPrimitives.ReadUInt64LittleEndian(entry.Data.Span) : 0;
}
