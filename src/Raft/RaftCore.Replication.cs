using System.Collections.Immutable;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;
using KvActors.Raft.Quorum;
using KvActors.Raft.Tracking;

namespace KvActors.Raft;

internal sealed partial class RaftCore
{
    private readonly List<Entry> _sliceBuffer = [];
    private readonly Queue<(LogIndex Index, long Bytes)> _uncommitted = new();   // this term's entries not yet committed
    private long _uncommittedBytes;

    public ProposeResult Propose(ReadOnlyMemory<byte> command)
    {
        if (Role != Role.Leader) return new ProposeResult(RequestStatus.NotLeader, default, Leader);
        if (_transferee.IsSome) return new ProposeResult(RequestStatus.Transferring, default, _transferee);
        if (_uncommittedBytes > 0 && _uncommittedBytes + command.Length > _config.MaxUncommittedBytes)
            return new ProposeResult(RequestStatus.TooBusy, default, _id);
        EntryId id = AppendAsLeader(EntryKind.Command, command);
        return new ProposeResult(RequestStatus.Accepted, id, _id);
    }

    /// <summary>Appends one entry of this term; the appends that carry it leave at the next flush, batched.</summary>
    private EntryId AppendAsLeader(EntryKind kind, ReadOnlyMemory<byte> data)
    {
        var id = new EntryId(Term, Log.LastIndex.Next());
        Log.Append([new Entry(id, kind, data)]);
        _uncommitted.Enqueue((id.Index, data.Length));
        _uncommittedBytes += data.Length;
        _appendPending = true;
        if (kind == EntryKind.Config) SyncMembership();
        return id;
    }

    private void BroadcastAppend()
    {
        if (Role != Role.Leader) return;      // stepped down in the same step (removed by a committed configuration)
        foreach (ReplicaId member in _membership.Members)
        {
            if (member != _id) SendAppend(member, sendIfEmpty: true);
        }
    }

    /// <summary>
    /// Sends the follower the entries it lacks, within the message and in-flight limits, or a snapshot when they are
    /// compacted away. An empty append probes or carries the commit index. Returns false when nothing was sent.
    /// </summary>
    private bool SendAppend(ReplicaId to, bool sendIfEmpty)
    {
        Progress progress = _progress[to];
        if (progress.IsPaused) return false;
        LogIndex prevIndex = progress.Next.Previous();
        if (progress.Next < Log.FirstIndex || !Log.TryTermAt(prevIndex, out Term prevTerm))
        {
            StartSnapshot(to, progress);
            return true;
        }
        _sliceBuffer.Clear();
        Log.Slice(progress.Next, Log.LastIndex.Next(), _config.MaxAppendEntries, _config.MaxAppendBytes, _sliceBuffer);
        if (_sliceBuffer.Count == 0 && !sendIfEmpty) return false;
        ImmutableArray<Entry> entries = [.. _sliceBuffer];
        long bytes = 0;
        foreach (Entry entry in entries) bytes += entry.SizeBytes;
        Send(new AppendRequest(_id, to, Term, new EntryId(prevTerm, prevIndex), entries, Log.Committed));
        progress.OnSent(entries.Length, entries.Length > 0 ? entries[^1].Index : prevIndex, bytes);
        return true;
    }

    private void BroadcastHeartbeat()
    {
        foreach (ReplicaId member in _membership.Members)
        {
            if (member == _id) continue;
            // Never past what the follower is known to hold: beyond Match its log may still differ from ours.
            LogIndex commit = LogIndex.Min(_progress[member].Match, Log.Committed);
            Send(new HeartbeatRequest(_id, member, Term, commit, _readRound));
        }
    }

    /// <summary>Figure 2, AppendEntries receiver, with a term hint on refusal (fast back-off).</summary>
    private void HandleAppendRequest(AppendRequest request)
    {
        if (request.Prev.Index < Log.Committed)
        {
            // Everything up to our commit already matches the leader (Leader Completeness); say where we are.
            Send(new AppendResponse(_id, request.From, Term, true, Log.Committed, default));
            return;
        }
        if (Log.TryAppend(request.Prev, request.Entries, request.Commit) is { } lastNew)
        {
            SyncMembership();
            // Durable before it leaves (the Ready contract), so the leader may count it toward commit.
            Send(new AppendResponse(_id, request.From, Term, true, lastNew, default));
            return;
        }
        // Our log does not hold Prev. Point the leader at our last entry whose term is at most Prev's term: no entry
        // after it can match, so the leader can skip every term in between in one round trip.
        EntryId hint = Log.LastEntryAtOrBefore(request.Prev.Index, request.Prev.Term);
        Send(new AppendResponse(_id, request.From, Term, false, request.Prev.Index, hint));
    }

    private void HandleHeartbeatRequest(HeartbeatRequest request)
    {
        Log.CommitTo(request.Commit);
        Send(new HeartbeatResponse(_id, request.From, Term, request.ReadRound));
    }

    private void HandleAppendResponse(AppendResponse response)
    {
        // Only replicas of the configuration in use count (a stale or foreign answer must not help commit).
        if (!_progress.TryGetValue(response.From, out Progress? progress) || response.From == _id) return;
        progress.RecentActive = true;
        if (!response.Success)
        {
            LogIndex next = response.Hint.Index;
            if (response.Hint.Term.Value > 0)
            {
                // The follower's log may match ours up to its hint; in our log, the last entry there with a term at
                // most the hint's term is the furthest point both could agree on.
                next = Log.LastEntryAtOrBefore(response.Hint.Index, response.Hint.Term).Index;
            }
            if (progress.MaybeDecreaseTo(response.Index, next))
            {
                if (progress.State == ProgressState.Replicate) progress.BecomeProbe();
                SendAppend(response.From, sendIfEmpty: true);
            }
            return;
        }
        if (response.Index > Log.LastIndex)
            Invariant.Fail($"{response.From} acknowledged index {response.Index} past the leader's last {Log.LastIndex}");
        bool updated = progress.MaybeUpdate(response.Index);
        // A probe answered with exactly what we knew still tells us where the follower's log ends: start streaming.
        if (!updated && !(progress.Match == response.Index && progress.State == ProgressState.Probe)) return;
        switch (progress.State)
        {
            case ProgressState.Probe:
                progress.BecomeReplicate();
                break;
            case ProgressState.Snapshot when progress.Match >= progress.PendingSnapshot!.Metadata.Last.Index:
                progress.BecomeProbe();       // restored: find where its log ends now
                break;
            case ProgressState.Replicate:
                progress.Inflights.FreeUpTo(response.Index);
                break;
        }
        MaybeFinishTransfer(response.From, progress.Match);
        if (MaybeCommit())
        {
            BroadcastAppend();
        }
        else if (Role == Role.Leader)
        {
            while (SendAppend(response.From, sendIfEmpty: false)) { }
        }
    }

    private void HandleHeartbeatResponse(HeartbeatResponse response)
    {
        if (!_progress.TryGetValue(response.From, out Progress? progress) || response.From == _id) return;
        progress.RecentActive = true;
        progress.ProbeSent = false;
        if (progress.State == ProgressState.Replicate && progress.Inflights.IsFull) progress.Inflights.FreeFirst();
        if (progress.State == ProgressState.Snapshot)
        {
            // A chunk or its answer was lost if nothing was acknowledged for a whole heartbeat interval: resend it.
            // Not on every heartbeat: with a round trip longer than the interval that would send every chunk twice.
            if (progress.SnapshotStalled) SendSnapshotChunk(response.From, progress);
            progress.SnapshotStalled = true;
        }
        // Even with nothing new to send: an append in Replicate that was lost is only noticed when the follower refuses
        // the next one's previous index, and with no new proposals (or proposals refused as too busy) there is none.
        else if (progress.Match < Log.LastIndex) SendAppend(response.From, sendIfEmpty: true);
        if (response.ReadRound > progress.ReadRoundAcked)
        {
            progress.ReadRoundAcked = response.ReadRound;
            ReleaseConfirmedReads();
        }
    }

    /// <summary>
    /// Commits the highest index a quorum holds — only if it is of this term (§5.4.2, Figure 8: an entry of an
    /// earlier term can be on a majority and still be overwritten). Returns true when the commit index moved.
    /// </summary>
    private bool MaybeCommit()
    {
        LogIndex quorumIndex = JointQuorum.CommittedIndex(_membership, MatchOf);
        if (quorumIndex <= Log.Committed || Log.TermAt(quorumIndex) != Term) return false;
        bool firstOfTerm = !CommittedInCurrentTerm;
        Log.CommitTo(quorumIndex);
        while (_uncommitted.Count > 0 && _uncommitted.Peek().Index <= quorumIndex) _uncommittedBytes -= _uncommitted.Dequeue().Bytes;
        if (firstOfTerm) OnFirstCommitOfTerm();
        OnConfigurationCommitted();
        return true;
    }

    private LogIndex MatchOf(ReplicaId voter) => _progress.TryGetValue(voter, out Progress? p) ? p.Match : default;

    private bool CommittedInCurrentTerm => Log.TermAt(Log.Committed) == Term;
}
