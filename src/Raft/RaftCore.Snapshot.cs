using KvActors.Raft.Ids;
using KvActors.Raft.Messages;
using KvActors.Raft.Tracking;

namespace KvActors.Raft;

internal sealed partial class RaftCore
{
    // The snapshot being received, chunk by chunk, from the leader of the current term. Dropped when another leader or
    // another snapshot shows up: a transfer restarts from zero rather than mixing two images.
    private IncomingSnapshot? _incoming;

    private sealed class IncomingSnapshot(ReplicaId leader, Term term, SnapshotMetadata metadata, long totalBytes)
    {
        public ReplicaId Leader { get; } = leader;
        public Term Term { get; } = term;
        public SnapshotMetadata Metadata { get; } = metadata;
        public byte[] Data { get; } = new byte[totalBytes];
        public long Received { get; set; }

        public bool Continues(SnapshotRequest request, Term term) =>
            request.From == Leader && term == Term && request.Metadata.Last == Metadata.Last && request.TotalBytes == Data.Length;
    }

    public SnapshotMetadata? SnapshotMetadataAt(LogIndex index)
    {
        if (index < Log.FirstIndex.Previous() || index > Log.Applied || Log.PendingSnapshot is not null) return null;
        return new SnapshotMetadata(new EntryId(Log.TermAt(index), index), Log.MembershipAt(index));
    }

    /// <summary>The follower needs entries we have compacted: send it our latest snapshot instead.</summary>
    private void StartSnapshot(ReplicaId to, Progress progress)
    {
        if (!progress.RecentActive) return;           // it may be down: do not push a snapshot into the void
        Snapshot snapshot = _storage.Snapshot();
        if (snapshot.Metadata.Last.Index < progress.Next.Previous())
            Invariant.Fail($"entry {progress.Next.Previous()} for {to} is compacted, but the snapshot only reaches {snapshot.Metadata.Last}");
        LogMessages.SendingSnapshot(_logger, _id, Term, to, snapshot.Metadata.Last, snapshot.Data.Length);
        progress.BecomeSnapshot(snapshot);
        SendSnapshotChunk(to, progress);
    }

    private void SendSnapshotChunk(ReplicaId to, Progress progress)
    {
        Snapshot snapshot = progress.PendingSnapshot!;
        long offset = progress.SnapshotOffset;
        int length = (int)Math.Min(_config.MaxSnapshotChunkBytes, snapshot.Data.Length - offset);
        Send(new SnapshotRequest(_id, to, Term, snapshot.Metadata, offset,
            snapshot.Data.Slice((int)offset, length), snapshot.Data.Length));
    }

    private void HandleSnapshotResponse(SnapshotResponse response)
    {
        if (!_progress.TryGetValue(response.From, out Progress? progress)) return;
        progress.RecentActive = true;
        if (progress.State != ProgressState.Snapshot || progress.PendingSnapshot!.Metadata.Last != response.Snapshot) return;
        progress.SnapshotStalled = false;
        if (response.NextOffset == progress.SnapshotOffset) return;                 // a duplicate answer
        if (response.NextOffset < 0 || response.NextOffset > progress.PendingSnapshot.Data.Length) return;
        progress.SnapshotOffset = response.NextOffset;   // forward, or back to where the follower's copy ends
        SendSnapshotChunk(response.From, progress);
    }

    /// <summary>Figure 13, InstallSnapshot receiver, for one chunk.</summary>
    private void HandleSnapshotRequest(SnapshotRequest request)
    {
        EntryId last = request.Metadata.Last;
        if (request.TotalBytes < 0 || request.Offset < 0 || request.Offset > request.TotalBytes)
            return;                                      // malformed: nothing sane to answer
        if (request.TotalBytes > _config.MaxSnapshotBytes)
        {
            LogMessages.SnapshotTooLarge(_logger, _id, request.From, last, request.TotalBytes, _config.MaxSnapshotBytes);
            return;
        }
        if (last.Index <= Log.Committed)
        {
            // Everything it covers is committed here already: say where we are and let the leader go on from there.
            _incoming = null;
            Send(new AppendResponse(_id, request.From, Term, true, Log.Committed, default));
            return;
        }
        if (_incoming is null || !_incoming.Continues(request, Term))
        {
            _incoming = null;
            if (request.Offset != 0)
            {
                Send(new SnapshotResponse(_id, request.From, Term, last, 0));   // start over from the first byte
                return;
            }
            _incoming = new IncomingSnapshot(request.From, Term, request.Metadata, request.TotalBytes);
        }
        if (request.Offset == _incoming.Received)
        {
            request.Chunk.Span.CopyTo(_incoming.Data.AsSpan((int)request.Offset));
            _incoming.Received += request.Chunk.Length;
        }
        if (_incoming.Received < _incoming.Data.Length)
        {
            Send(new SnapshotResponse(_id, request.From, Term, last, _incoming.Received));
            return;
        }
        var snapshot = new Snapshot(_incoming.Metadata, _incoming.Data);
        _incoming = null;
        RestoreSnapshot(request.From, snapshot);
    }

    private void RestoreSnapshot(ReplicaId leader, Snapshot snapshot)
    {
        EntryId last = snapshot.Metadata.Last;
        if (Log.Matches(last))
        {
            // Our log already holds the snapshot's last entry, so it holds everything before it: just commit.
            Log.CommitTo(last.Index);
        }
        else
        {
            LogMessages.RestoringSnapshot(_logger, _id, Term, leader, last);
            Log.Restore(snapshot);
            SyncMembership();
        }
        // Leaves only once the snapshot is written (the Ready contract).
        Send(new AppendResponse(_id, leader, Term, true, last.Index, default));
    }
}
