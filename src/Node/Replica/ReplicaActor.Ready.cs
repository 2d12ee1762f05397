using System.Diagnostics;
using Akka.Event;
using Akka.Persistence;
using SnapshotMetadata = KvActors.Raft.SnapshotMetadata;
using SavedSnapshot = Akka.Persistence.SnapshotMetadata;
using KvActors.Node.StateMachine;
using KvActors.Node.Wire;
using KvActors.Protocol;
using KvActors.Raft;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Node.Replica;

public sealed partial class ReplicaActor
{
    private LogIndex _lastSnapshotIndex;
    private long _bytesSinceSnapshot;     // command bytes applied since the last snapshot was taken
    private (SnapshotMetadata Raft, byte[] Image)? _snapshotInFlight;
    private long _snapshotStarted;        // Stopwatch timestamp of the snapshot in flight
    private SnapshotStats _snapshotStats = SnapshotStats.None;

    /// <summary>
    /// One journal write per Ready. Akka.Persistence stashes commands while it is in flight; afterwards they are stepped
    /// and travel together in the next Ready. A snapshot from the leader is saved first, in its own store.
    /// </summary>
    private void HandleReady()
    {
        if (!_raft!.HasReady()) return;
        Ready ready = _raft.Ready();
        if (ready.Snapshot is { } snapshot)
        {
            SaveLeaderSnapshot(ready, snapshot);
            return;
        }
        PersistReady(ready);
    }

    private void PersistReady(Ready ready)
    {
        // A leader's replication leaves now, so followers write while it does (§10.2.1); it promises nothing being written.
        foreach (RaftMessage message in ready.MessagesBeforeWrite) SendToPeer(message);
        var events = new List<object>(2);
        if (ready.HardState is { } hardState && !OnlyCommitMoved(hardState, ready)) events.Add(RaftWire.ToWire(hardState));
        if (ready.Entries.Count > 0) events.Add(RaftWire.ToEntriesAppended(ready.Entries));
        if (events.Count == 0)
        {
            OnReadyDurable(ready);
            return;
        }
        _journalWrites++;
        _entriesWritten += ready.Entries.Count;
        // One AtomicWrite: hard state and entries land in one transaction or not at all.
        PersistAll(events, static _ => { }, () =>
        {
            Failpoints.JournalDurable(PersistenceId, LastSequenceNr);
            OnReadyDurable(ready);
        });
    }

    /// <summary>
    /// True when the only news in the hard state is a higher commit index and there are no entries to write with it.
    /// Raft does not need the commit index durable (Figure 2 lists it as volatile; a restarted replica learns it
    /// again from its leader, and a snapshot's index counts as committed), so such a Ready costs no journal write:
    /// at low load that halves the fsyncs on the path of every write. It is written with the next entries.
    /// </summary>
    private bool OnlyCommitMoved(HardState next, Ready ready) =>
        ready.Entries.Count == 0 && ready.Snapshot is null
        && next.Term == _storage.HardState.Term && next.Vote == _storage.HardState.Vote;

    private void OnReadyDurable(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            _storage.ApplySnapshot(snapshot);
            _stateMachine = KvStateMachine.Restore(snapshot.Data.Span, StateMachineSettings(_settings));
            _lastSnapshotIndex = snapshot.Metadata.Last.Index;
            FailWritesUpTo(snapshot.Metadata.Last.Index);
        }
        if (ready.HardState is { } hardState) _storage.SetHardState(hardState);
        if (ready.Entries.Count > 0) _storage.Append(ready.Entries);
        // Only now: the messages may promise what was just written.
        foreach (RaftMessage message in ready.Messages) SendToPeer(message);
        foreach (Entry entry in ready.CommittedEntries) Apply(entry);
        foreach (ReadState read in ready.ReadStates) OnReadConfirmed(read);
        foreach (ReadContext aborted in ready.AbortedReads) OnReadAborted(aborted);
        ServeConfirmedReads();
        _raft!.Advance(ready);
        MaybeSnapshot();
        ScheduleReady();
    }

    private void SendToPeer(RaftMessage message)
    {
        if (_peers.TryGetValue(message.To, out var peer)) peer.Tell(RaftWire.ToWire(new ShardId(_address.Shard), message), Self);
    }

    private void Apply(Entry entry)
    {
        if (entry.Kind != EntryKind.Command)
        {
            _stateMachine.AdvanceIndex(entry.Index.Value);
            FailLostWrite(entry);
            return;
        }
        _bytesSinceSnapshot += entry.Data.Length;
        KvReply reply = _stateMachine.Apply(entry.Index.Value, entry.Data.Span);
        AnswerWrite(entry, reply);
    }

    /// <summary>Saves a snapshot the leader sent, then writes the rest of the Ready; commands wait meanwhile.</summary>
    private void SaveLeaderSnapshot(Ready ready, Snapshot snapshot)
    {
        HardState hardState = ready.HardState ?? _storage.HardState;
        SaveSnapshot(RaftWire.ToReplicaSnapshot(snapshot, hardState, []));
        BecomeStacked(message =>
        {
            switch (message)
            {
                case SaveSnapshotSuccess success:
                    Failpoints.SnapshotDurable(PersistenceId, success.Metadata.SequenceNr);
                    UnbecomeStacked();
                    _log.Info("Shard {Shard} replica {Replica}: installed the leader's snapshot at index {Index} (term {Term}); it had fallen behind the leader's compacted log",
                        _address.Shard, _address.Replica, snapshot.Metadata.Last.Index.Value, snapshot.Metadata.Last.Term.Value);
                    DeleteMessages(success.Metadata.SequenceNr);
                    DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
                    Stash.UnstashAll();
                    PersistReady(ready);
                    break;
                case SaveSnapshotFailure failure:
                    _log.Error(failure.Cause, "Shard {Shard} replica {Replica}: could not save the snapshot the leader sent; stopping so the replica restarts from its journal",
                        _address.Shard, _address.Replica);
                    Context.Stop(Self);
                    break;
                default:
                    Stash.Stash();
                    break;
            }
        });
    }

    /// <summary>
    /// Every <see cref="ReplicaSettings.SnapshotEveryEntries"/> applied entries or <see cref="ReplicaSettings.SnapshotEveryBytes"/>
    /// applied command bytes: snapshot, then trim the journal.
    /// </summary>
    private void MaybeSnapshot()
    {
        LogIndex applied = new(_stateMachine.AppliedIndex);
        bool due = applied.Value >= _lastSnapshotIndex.Value + (ulong)_settings.SnapshotEveryEntries
            || _bytesSinceSnapshot >= _settings.SnapshotEveryBytes;
        if (_snapshotInFlight is not null || !due || applied <= _lastSnapshotIndex) return;
        if (_raft!.SnapshotMetadataAt(applied) is not { } metadata) return;
        long started = Stopwatch.GetTimestamp();
        byte[] image = _stateMachine.TakeSnapshot();
        var tail = new List<Entry>();
        _storage.CopyEntries(applied.Next(), _storage.LastIndex().Next(), long.MaxValue, tail);
        _snapshotInFlight = (metadata, image);
        _bytesSinceSnapshot = 0;
        SaveSnapshot(RaftWire.ToReplicaSnapshot(new Snapshot(metadata, image), _storage.HardState, tail));
        Failpoints.SnapshotHandedToStore(_address);
        // The replica serves nothing while it copies its state machine; the store writes the copy on its own thread.
        _snapshotStats = _snapshotStats.WithTaken(Stopwatch.GetElapsedTime(started), image.Length);
        _snapshotStarted = started;
    }

    private void OnSnapshotSaved(SavedSnapshot saved)
    {
        Failpoints.SnapshotDurable(PersistenceId, saved.SequenceNr);
        if (_snapshotInFlight is not { } inFlight) return;
        _snapshotInFlight = null;
        _storage.Compact(new Snapshot(inFlight.Raft, inFlight.Image));
        _lastSnapshotIndex = inFlight.Raft.Last.Index;
        DeleteMessages(saved.SequenceNr);
        DeleteSnapshots(new SnapshotSelectionCriteria(saved.SequenceNr - 1));
        TimeSpan took = Stopwatch.GetElapsedTime(_snapshotStarted);
        _snapshotStats = _snapshotStats.WithSaved(took);
        _log.Info("Shard {Shard} replica {Replica}: snapshot at index {Index} saved in {Millis} ms ({Stats}); journal trimmed up to it",
            _address.Shard, _address.Replica, inFlight.Raft.Last.Index, (long)took.TotalMilliseconds,
            $"{inFlight.Image.Length} bytes, the replica paused {(long)_snapshotStats.LastPause.TotalMilliseconds} ms to copy them");
        MaybeSnapshot();      // more may have been applied while this one was being written
    }
}
