using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using KvActors.Node.StateMachine;
using KvActors.Node.Wire;
using KvActors.Raft;
using KvActors.Raft.Ids;

namespace KvActors.Node.Replica;

/// <summary>
/// One Raft replica of one shard, as a persistent actor (<c>PersistenceId</c> = <c>raft-{shard}-{replica}</c>). It
/// owns a Raft core, ticks it from a timer, steps it with messages from its peers, proposes client writes and
/// ReadIndex reads, and handles each <see cref="Ready"/>: one journal write (hard state + entries), then messages,
/// then applying to the state machine and answering clients. Commands arriving while a write is in flight are
/// stashed by Akka.Persistence and go into the next Ready together (group commit).
/// <para>
/// Journal events: <see cref="EntriesAppended"/> (appending at index i replaces stored entries ≥ i, so a follower's
/// truncation is an ordinary event) and <see cref="HardStateChanged"/>. Snapshot payload:
/// <see cref="ReplicaSnapshot"/> — the state machine image, the Raft snapshot metadata, the hard state and the log
/// tail after the image, so that replay from it alone restores the whole replica; the journal before it is deleted.
/// </para>
/// </summary>
public sealed partial class ReplicaActor : UntypedPersistentActor, IWithTimers
{
    private readonly ReplicaAddress _address;
    private readonly ReplicaSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ImmutableDictionary<ReplicaId, ActorSelection> _peers = ImmutableDictionary<ReplicaId, ActorSelection>.Empty;
    private MemoryRaftStorage _storage;
    private KvStateMachine _stateMachine;
    private RaftNode? _raft;
    private bool _readyScheduled;
    private long _journalWrites;
    private long _entriesWritten;
    // When each peer was last heard from (Stopwatch timestamps): the leader reports the silences, and a shard manager
    // replaces a member silent for too long. A peer never heard from counts from the replica's start.
    private readonly Dictionary<ReplicaId, long> _lastHeard = [];
    private bool _leading;                  // as last told to the parent
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>Creates the replica; <paramref name="initialMembership"/> applies only when its journal is empty.</summary>
    public ReplicaActor(ReplicaAddress address, ReplicaSettings settings, Membership initialMembership,
        ImmutableDictionary<ReplicaId, ActorPath> peers)
    {
        _address = address;
        _settings = settings;
        _storage = new MemoryRaftStorage(initialMembership);
        _stateMachine = new KvStateMachine(StateMachineSettings(settings));
        SetPeers(peers);
    }

    /// <summary>Props for a replica; see the constructor.</summary>
    public static Props Props(ReplicaAddress address, ReplicaSettings settings, Membership initialMembership,
        ImmutableDictionary<ReplicaId, ActorPath> peers) =>
        Akka.Actor.Props.Create(() => new ReplicaActor(address, settings, initialMembership, peers));

    /// <inheritdoc />
    public override string PersistenceId => _address.PersistenceId;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private static StateMachineSettings StateMachineSettings(ReplicaSettings settings) =>
        new() { MaxSessions = settings.MaxSessions };

    private void SetPeers(ImmutableDictionary<ReplicaId, ActorPath> peers)
    {
        var builder = ImmutableDictionary.CreateBuilder<ReplicaId, ActorSelection>();
        foreach ((ReplicaId id, ActorPath path) in peers)
        {
            if (id != _address.Replica) builder[id] = Context.ActorSelection(path);
        }
        _peers = builder.ToImmutable();
    }

    /// <inheritdoc />
    protected override void OnCommand(object message)
    {
        if (_raft is null)
        {
            Stash.Stash();       // cannot happen after recovery; kept for safety during a snapshot install
            return;
        }
        switch (message)
        {
            case RaftEnvelope envelope: StepEnvelope(envelope); break;
            case KvRequest request: HandleClientRequest(request, Sender); break;
            case TickRaft:
                _raft.Tick();
                ReportLeadership();
                break;
            case DrainReady:
                _readyScheduled = false;
                HandleReady();
                return;
            case SweepDeadlines: FailExpiredRequests(); return;
            case ProposeMembershipChange change: Sender.Tell(ProposeChange(change)); break;
            case TransferShardLeadership transfer: Sender.Tell(Transfer(transfer)); break;
            case GetReplicaStatus:
                Sender.Tell(new ReplicaStatus(_address.Shard, _raft.Status, _raft.Membership,
                    _storage.Snapshot().Metadata.Last.Index, _journalWrites, _entriesWritten, _snapshotStats));
                return;
            case GetReplicaHealth: Sender.Tell(Health()); return;
            case UpdatePeers update: SetPeers(update.Peers); return;
            case SaveSnapshotSuccess success: OnSnapshotSaved(success.Metadata); return;
            case SaveSnapshotFailure failure:
                _log.Warning("Shard {Shard} replica {Replica}: saving a snapshot failed, the journal stays untrimmed: {Reason}",
                    _address.Shard, _address.Replica, failure.Cause.Message);
                _snapshotInFlight = null;
                return;
            case DeleteMessagesSuccess or DeleteMessagesFailure or DeleteSnapshotsSuccess or DeleteSnapshotsFailure:
                return;
            default:
                Unhandled(message);
                return;
        }
        ScheduleReady();
    }

    private void StepEnvelope(RaftEnvelope envelope)
    {
        if (envelope.Shard != (uint)_address.Shard)
        {
            _log.Warning("Shard {Shard} replica {Replica}: dropped a Raft message for shard {Other} from {Sender}",
                _address.Shard, _address.Replica, envelope.Shard, Sender);
            return;
        }
        Raft.Messages.RaftMessage? message = RaftWire.FromWire(envelope, out string? reason);
        if (message is null)
        {
            _log.Warning("Shard {Shard} replica {Replica}: dropped a malformed Raft message from {Sender}: {Reason}",
                _address.Shard, _address.Replica, Sender, reason);
            return;
        }
        _lastHeard[message.From] = Stopwatch.GetTimestamp();
        _raft!.Step(message);
    }

    /// <summary>Proposes a shard manager's membership change, if this replica leads; logs it when the core takes it.</summary>
    private MembershipChangeAnswer ProposeChange(ProposeMembershipChange change)
    {
        var replica = new ReplicaId(change.ReplicaId);
        ConfigChange? planned = change.Kind switch
        {
            MembershipChangeKind.MembershipChangeAddLearner => ConfigChange.AddLearner(replica),
            MembershipChangeKind.MembershipChangePromoteLearner => ConfigChange.Promote(replica),
            MembershipChangeKind.MembershipChangeRemove => ConfigChange.Remove(replica),
            MembershipChangeKind.MembershipChangeReplaceVoter => ConfigChange.Replace(replica, new ReplicaId(change.Replacement)),
            _ => null,
        };
        if (change.Shard != (uint)_address.Shard || planned is null)
            return new MembershipChangeAnswer { Shard = (uint)_address.Shard, Status = nameof(RequestStatus.InvalidChange) };
        ProposeResult result = _raft!.ProposeConfigChange(planned);
        if (result.IsAccepted)
            _log.Info("Shard {Shard} replica {Replica}: proposed membership change {Change} at index {Index} (term {Term})",
                _address.Shard, _address.Replica, planned, result.Entry.Index, result.Entry.Term);
        return new MembershipChangeAnswer { Shard = (uint)_address.Shard, Status = result.Status.ToString(), LeaderHint = result.LeaderHint.Value };
    }

    /// <summary>Starts a shard manager's leader transfer, if this replica leads; logs it when the core takes it.</summary>
    private MembershipChangeAnswer Transfer(TransferShardLeadership transfer)
    {
        if (transfer.Shard != (uint)_address.Shard)
            return new MembershipChangeAnswer { Shard = (uint)_address.Shard, Status = nameof(RequestStatus.InvalidChange) };
        TransferResult result = _raft!.TransferLeadership(new ReplicaId(transfer.To));
        if (result.Status == RequestStatus.Accepted)
            _log.Info("Shard {Shard} replica {Replica}: handing leadership to replica {To} (term {Term})",
                _address.Shard, _address.Replica, transfer.To, _raft.Status.Term);
        return new MembershipChangeAnswer { Shard = (uint)_address.Shard, Status = result.Status.ToString(), LeaderHint = result.LeaderHint.Value };
    }

    /// <summary>Tells the parent when this replica starts or stops leading (checked every tick: a role can change without a Ready).</summary>
    private void ReportLeadership()
    {
        bool leading = _raft!.Status.Role == Role.Leader;
        if (leading == _leading) return;
        _leading = leading;
        Context.Parent.Tell(new ReplicaLeadership(_address.Shard, leading));
    }

    /// <summary>What this replica tells a shard manager about itself (the wire form of <see cref="ReplicaStatus"/>).</summary>
    private ReplicaHealth Health()
    {
        RaftStatus status = _raft!.Status;
        Membership membership = _raft.Membership;
        var health = new ReplicaHealth
        {
            Shard = (uint)_address.Shard,
            ReplicaId = _address.Replica.Value,
            // The core has no learner role: a learner is a follower that its membership does not let vote.
            Role = status.Role switch
            {
                Role.Leader => "leader",
                Role.Candidate => "candidate",
                Role.PreCandidate => "pre-candidate",
                _ => membership.IsLearner(_address.Replica) ? "learner" : "follower",
            },
            Term = status.Term.Value,
            LeaderId = status.Leader.Value,
            Commit = status.Commit.Value,
            Applied = status.Applied.Value,
            LastIndex = status.LastLog.Index.Value,
            SnapshotIndex = _storage.Snapshot().Metadata.Last.Index.Value,
            MembershipSettled = _raft.MembershipSettled,
        };
        foreach (ReplicaId id in membership.Voters) health.Voters.Add(id.Value);
        foreach (ReplicaId id in membership.OutgoingVoters) health.OutgoingVoters.Add(id.Value);
        foreach (ReplicaId id in membership.Learners) health.Learners.Add(id.Value);
        if (status.Role != Role.Leader) return health;
        long now = Stopwatch.GetTimestamp();
        foreach (ReplicaId id in membership.Members.Where(m => m != _address.Replica))
        {
            long heard = _lastHeard.GetValueOrDefault(id, _started);
            health.Peers.Add(new PeerContact { ReplicaId = id.Value, SilentMillis = (ulong)Stopwatch.GetElapsedTime(heard, now).TotalMilliseconds });
        }
        return health;
    }

    /// <summary>At most one DrainReady queued: everything that arrives before it is handled goes into one Ready.</summary>
    private void ScheduleReady()
    {
        if (_readyScheduled) return;
        _readyScheduled = true;
        Self.Tell(DrainReady.Instance);
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("sweep", SweepDeadlines.Instance, TimeSpan.FromSeconds(1));
    }

    /// <inheritdoc />
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // A failed journal write leaves the core ahead of its disk: stop, and let the host restart from what is durable.
        _log.Error(cause, "Shard {Shard} replica {Replica}: journal write {SequenceNr} failed; stopping so the replica restarts from its journal",
            _address.Shard, _address.Replica, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Shard {Shard} replica {Replica}: journal rejected write {SequenceNr}; stopping",
            _address.Shard, _address.Replica, sequenceNr);
        Context.Stop(Self);
    }
}
