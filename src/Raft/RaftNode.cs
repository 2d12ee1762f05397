using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Raft;

/// <summary>
/// One replica's Raft core, driven from outside (etcd's RawNode). The shell feeds it time (<see cref="Tick"/>),
/// messages (<see cref="Step"/>), commands (<see cref="Propose"/>) and reads (<see cref="ReadIndex"/>); whenever
/// <see cref="HasReady"/> is true it takes a <see cref="Raft.Ready"/>, does what it says in the documented order,
/// and calls <see cref="Advance"/>. Deterministic: the same inputs give the same outputs. Not thread-safe: call it
/// from one thread (an actor) at a time.
/// </summary>
public sealed class RaftNode
{
    private readonly RaftCore _core;
    private readonly long _maxApplyBytes;
    private HardState _persisted;
    private Ready? _outstanding;

    /// <summary>Starts a replica from what <paramref name="storage"/> holds durably.</summary>
    /// <exception cref="ArgumentException">A setting in <paramref name="config"/> is out of range.</exception>
    /// <exception cref="RaftInvariantException">The stored state is inconsistent (e.g. commit past the log's end).</exception>
    public RaftNode(RaftConfig config, IRaftStorage storage)
    {
        _core = new RaftCore(config, storage);
        _maxApplyBytes = config.MaxApplyBytesPerReady;
        _persisted = storage.InitialState().HardState;
    }

    /// <summary>The protocol state, for invariant checks in tests and simulation.</summary>
    internal RaftCore Core => _core;

    /// <summary>This replica's role, term, vote, leader and log positions now.</summary>
    public RaftStatus Status => _core.Status;

    /// <summary>Advances the core's clock by one tick: elections, heartbeats and quorum checks run on it.</summary>
    public void Tick() => _core.Tick();

    /// <summary>
    /// Feeds a message from another replica. Stale, misrouted or unexpected messages are ignored; the core never
    /// throws for a well-formed message, except when it proves Raft's invariants broken (<see cref="RaftInvariantException"/>).
    /// </summary>
    public void Step(RaftMessage message) => _core.Step(message);

    /// <summary>
    /// Appends <paramref name="command"/> to the log if this replica leads. The returned entry id is committed only
    /// if an entry with that exact id comes out in <see cref="Raft.Ready.CommittedEntries"/>; another entry at that
    /// index means the command was lost with a change of leader.
    /// </summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> command) => _core.Propose(command);

    /// <summary>
    /// Asks for a linearizable read point. If this replica leads, <paramref name="context"/> comes back later in
    /// either <see cref="Raft.Ready.ReadStates"/> or <see cref="Raft.Ready.AbortedReads"/>.
    /// </summary>
    public ReadIndexResult ReadIndex(ReadContext context) => _core.ReadIndex(context);

    /// <summary>
    /// Proposes a membership change if this replica leads. Refused with a typed status when another change is still
    /// in flight, when the change makes no sense, when it would remove the last voter, or when a learner to promote
    /// has not caught up. A change of voters goes through a joint configuration, which the leader then leaves by itself.
    /// </summary>
    public ProposeResult ProposeConfigChange(ConfigChange change) => _core.ProposeConfigChange(change);

    /// <summary>
    /// Hands leadership to voter <paramref name="to"/>: the leader stops taking proposals, catches the target up and
    /// tells it to campaign. Gives up after an election timeout.
    /// </summary>
    public TransferResult TransferLeadership(ReplicaId to) => _core.TransferLeadership(to);

    /// <summary>The membership this replica uses now (the newest in its log, committed or not).</summary>
    public Membership Membership => _core.Membership;

    /// <summary>
    /// True when the newest configuration in this replica's log is committed (as far as it knows) and not joint: on the
    /// leader, a membership change may start, and <see cref="Membership"/> can no longer be rolled back.
    /// </summary>
    public bool MembershipSettled => _core.MembershipSettled;

    /// <summary>
    /// What a snapshot of the state machine at <paramref name="index"/> stands for (its last entry and the membership
    /// then). Null when no snapshot can be taken there: <paramref name="index"/> is compacted or not yet applied, or a
    /// snapshot from the leader is about to replace the log.
    /// </summary>
    public SnapshotMetadata? SnapshotMetadataAt(LogIndex index) => _core.SnapshotMetadataAt(index);

    /// <summary>True when there is work for the shell. Sends batched appends and reads first.</summary>
    public bool HasReady()
    {
        if (_outstanding is not null) return false;
        _core.Flush();
        return _core.HardState != _persisted
            || _core.Log.PendingSnapshot is not null
            || _core.Log.HasUnstable
            || _core.HasMessages
            || _core.Log.HasNextCommitted
            || _core.HasReadResults;
    }

    /// <summary>Takes the work for the shell; see <see cref="Raft.Ready"/> for what it must do, in what order.</summary>
    /// <exception cref="InvalidOperationException">The previous Ready has not been advanced.</exception>
    public Ready Ready()
    {
        if (_outstanding is not null)
            throw new InvalidOperationException("the previous Ready has not been advanced; at most one may be outstanding");
        _core.Flush();
        HardState hardState = _core.HardState;
        RaftMessage[] messages = _core.TakeMessages();
        RaftMessage[] early = [];
        // §10.2.1: a leader may replicate while it writes, as long as the write holds no new term or vote (which the
        // messages would then promise) and no snapshot (which replaces the log the appends are cut from).
        if (_core.Role == Role.Leader && _core.Log.PendingSnapshot is null && hardState.Term == _persisted.Term && hardState.Vote == _persisted.Vote)
            (early, messages) = SplitReplication(messages);
        var ready = new Ready(
            _core.Log.PendingSnapshot,
            hardState != _persisted ? hardState : null,
            _core.Log.UnstableEntries(),
            early,
            messages,
            _core.Log.NextCommittedEntries(_maxApplyBytes),
            _core.TakeReadStates(),
            _core.TakeAbortedReads());
        _outstanding = ready;
        return ready;
    }

    /// <summary>Appends, heartbeats and snapshot chunks first; everything else (e.g. refusals, TimeoutNow) after the write.</summary>
    private static (RaftMessage[] Replication, RaftMessage[] Others) SplitReplication(RaftMessage[] messages)
    {
        int replication = 0;
        foreach (RaftMessage message in messages)
        {
            if (IsReplication(message)) replication++;
        }
        if (replication == 0) return ([], messages);
        if (replication == messages.Length) return (messages, []);
        var early = new RaftMessage[replication];
        var rest = new RaftMessage[messages.Length - replication];
        int e = 0, r = 0;
        foreach (RaftMessage message in messages)
        {
            if (IsReplication(message)) early[e++] = message;
            else rest[r++] = message;
        }
        return (early, rest);
    }

    private static bool IsReplication(RaftMessage message) => message is AppendRequest or HeartbeatRequest or SnapshotRequest;

    /// <summary>The shell has done everything <paramref name="ready"/> asked.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="ready"/> is not the outstanding Ready.</exception>
    public void Advance(Ready ready)
    {
        if (!ReferenceEquals(ready, _outstanding))
            throw new InvalidOperationException("Advance was given a Ready that is not the outstanding one");
        _outstanding = null;
        if (ready.HardState is { } hardState) _persisted = hardState;
        if (ready.Snapshot is { } snapshot) _core.Log.SnapshotStable(snapshot);
        if (ready.CommittedEntries.Count > 0) _core.Log.AppliedTo(ready.CommittedEntries[^1].Index);
        if (ready.Entries.Count > 0) _core.OnStable(ready.Entries);
    }
}
