using Akka.Event;
using Akka.Persistence;
using KvActors.Node.StateMachine;
using KvActors.Node.Wire;
using KvActors.Raft;
using KvActors.Raft.Log;

namespace KvActors.Node.Replica;

public sealed partial class ReplicaActor
{
    // Recovery = the latest snapshot (state machine image, hard state, log tail) + the journal after it. The core is
    // built only once everything durable is back, so it never votes or acknowledges anything it had not persisted.

    /// <inheritdoc />
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: ReplicaSnapshot snapshot } offer:
                Failpoints.SnapshotDurable(PersistenceId, offer.Metadata.SequenceNr);
                RestoreFromSnapshot(snapshot);
                break;
            case EntriesAppended appended:
                _storage.Append(RaftWire.FromWire(appended, out string? reason)
                    ?? throw new InvalidDataException($"{_address}: journal event does not decode: {reason}"));
                break;
            case HardStateChanged hardState:
                _storage.SetHardState(RaftWire.FromWire(hardState));
                break;
            case RecoveryCompleted:
                Failpoints.JournalDurable(PersistenceId, LastSequenceNr);
                StartRaft();
                break;
        }
    }

    private void RestoreFromSnapshot(ReplicaSnapshot payload)
    {
        Snapshot snapshot = RaftWire.FromWire(payload, out string? reason)
            ?? throw new InvalidDataException($"{_address}: snapshot does not decode: {reason}");
        (HardState hardState, Entry[] tail) = RaftWire.ReplicaStateFromWire(payload, out reason)
            ?? throw new InvalidDataException($"{_address}: snapshot does not decode: {reason}");
        var storage = new MemoryRaftStorage(snapshot.Metadata.Membership);
        storage.ApplySnapshot(snapshot);
        storage.Append(tail);
        storage.SetHardState(hardState);
        _storage = storage;
        _stateMachine = KvStateMachine.Restore(snapshot.Data.Span, StateMachineSettings(_settings));
    }

    private void StartRaft()
    {
        RaftConfig config = _settings.RaftTemplate with
        {
            Id = _address.Replica,
            Applied = new Raft.Ids.LogIndex(_stateMachine.AppliedIndex),
            RandomSeed = (ulong)Random.Shared.NextInt64(),
        };
        _raft = new RaftNode(config, _storage);
        _lastSnapshotIndex = _storage.Snapshot().Metadata.Last.Index;
        Timers.StartPeriodicTimer("tick", TickRaft.Instance, _settings.TickInterval);
        _log.Info("Shard {Shard} replica {Replica} started at term {Term}, commit {Commit}, state machine at {Applied}",
            _address.Shard, _address.Replica, _raft.Status.Term, _raft.Status.Commit, _stateMachine.AppliedIndex);
        _log.Info("Shard {Shard} replica {Replica} holds log [{First}, {Last}] and uses membership {Membership}",
            _address.Shard, _address.Replica, _storage.FirstIndex(), _storage.LastIndex(), _raft.Membership);
        Stash.UnstashAll();
        ScheduleReady();
    }
}
