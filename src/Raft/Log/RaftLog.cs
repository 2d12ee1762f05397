using KvActors.Raft.Ids;

namespace KvActors.Raft.Log;

/// <summary>
/// One replica's view of its log: what <see cref="IRaftStorage"/> holds durably, overlaid by an unstable tail the
/// shell has not yet written. Index &lt; <see cref="_unstableOffset"/> reads from storage, the rest from the tail.
/// The tail may start below the storage's last index: those stored entries are stale and get replaced when the
/// shell writes the next <see cref="Ready"/>.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftStorage _storage;
    private readonly List<Entry> _unstable = [];
    private LogIndex _unstableOffset;   // index of _unstable[0]; storage.LastIndex + 1 when the tail is empty
    private Snapshot? _pendingSnapshot; // received from a leader, not yet written by the shell
    // Dissertation §4.1: a replica uses the newest configuration in its log, committed or not. The configuration
    // entries after the snapshot, oldest first; the snapshot's membership stands before them.
    private readonly List<(LogIndex Index, Membership Membership)> _configs = [];
    private Membership _baseMembership;

    public RaftLog(IRaftStorage storage, Membership baseMembership, LogIndex committed, LogIndex applied)
    {
        _storage = storage;
        _baseMembership = baseMembership;
        _unstableOffset = storage.LastIndex().Next();
        LogIndex snapshotIndex = storage.FirstIndex().Previous();
        committed = LogIndex.Max(committed, snapshotIndex);   // a snapshot holds only committed entries
        if (committed > LastIndex)
            Invariant.Fail($"stored commit {committed} is past the stored log's last index {LastIndex}");
        if (applied > committed)
            Invariant.Fail($"applied {applied} is past the stored commit {committed}");
        if (applied < snapshotIndex)
            Invariant.Fail($"applied {applied} is before the snapshot at {snapshotIndex}: restore the snapshot first");
        Committed = committed;
        Applied = applied;
        var chunk = new List<Entry>();
        for (LogIndex from = storage.FirstIndex(); from <= storage.LastIndex(); from = from.Plus((ulong)chunk.Count))
        {
            chunk.Clear();
            storage.CopyEntries(from, storage.LastIndex().Next(), 4 * 1024 * 1024, chunk);
            TrackConfigs(chunk, 0);
        }
    }

    /// <summary>The configuration in force: the newest in the log (§4.1), or the snapshot's.</summary>
    public Membership Membership => _configs.Count > 0 ? _configs[^1].Membership : _baseMembership;

    /// <summary>The index of the newest configuration entry in the log; 0 when the snapshot's is in force.</summary>
    public LogIndex LastConfigIndex => _configs.Count > 0 ? _configs[^1].Index : default;

    /// <summary>The configuration in force at <paramref name="index"/> (at or after the snapshot).</summary>
    public Membership MembershipAt(LogIndex index)
    {
        for (int i = _configs.Count - 1; i >= 0; i--)
            if (_configs[i].Index <= index) return _configs[i].Membership;
        return _baseMembership;
    }

    public Snapshot? PendingSnapshot => _pendingSnapshot;

    private void TrackConfigs(IReadOnlyList<Entry> entries, int from)
    {
        for (int i = from; i < entries.Count; i++)
        {
            if (entries[i].Kind != EntryKind.Config) continue;
            Membership membership = Membership.Decode(entries[i].Data.Span)
                ?? Invariant.Fail<Membership>($"configuration entry {entries[i].Id} does not decode");
            _configs.Add((entries[i].Index, membership));
        }
    }

    /// <summary>The highest index known to be committed. Never decreases.</summary>
    public LogIndex Committed { get; private set; }

    /// <summary>The highest index handed to the shell for applying and acknowledged by <see cref="RaftNode.Advance"/>. Applied ≤ Committed.</summary>
    public LogIndex Applied { get; private set; }

    public LogIndex FirstIndex => _pendingSnapshot is { } pending ? pending.Metadata.Last.Index.Next() : _storage.FirstIndex();

    public LogIndex LastIndex => _unstable.Count > 0
        ? _unstableOffset.Plus((ulong)(_unstable.Count - 1))
        : _pendingSnapshot is { } pending ? pending.Metadata.Last.Index : _storage.LastIndex();

    /// <summary>The last index the shell has written durably and that is still part of this log.</summary>
    public LogIndex StableIndex => _unstableOffset.Previous();

    public EntryId LastEntryId => new(TermAt(LastIndex), LastIndex);

    public bool HasUnstable => _unstable.Count > 0;

    public bool HasNextCommitted => Committed > Applied && _pendingSnapshot is null;

    /// <summary>The term of the entry at <paramref name="index"/>, or false when the log does not hold it.</summary>
    public bool TryTermAt(LogIndex index, out Term term)
    {
        if (_pendingSnapshot is { } pending && index <= pending.Metadata.Last.Index)
        {
            term = pending.Metadata.Last.Term;
            return index == pending.Metadata.Last.Index;
        }
        if (index >= _unstableOffset && _unstable.Count > 0)
        {
            ulong offset = index.Value - _unstableOffset.Value;
            if (offset < (ulong)_unstable.Count) { term = _unstable[(int)offset].Term; return true; }
            term = default;
            return false;
        }
        if (index < _storage.FirstIndex().Previous() || index > StableIndex || index > _storage.LastIndex())
        {
            term = default;
            return false;
        }
        term = _storage.TermAt(index);
        return true;
    }

    /// <summary>The term at an index the caller knows is in the log.</summary>
    public Term TermAt(LogIndex index)
    {
        if (!TryTermAt(index, out Term term))
            Invariant.Fail($"index {index} is outside the log [{FirstIndex}, {LastIndex}]");
        return term;
    }

    public bool Matches(EntryId id) => TryTermAt(id.Index, out Term term) && term == id.Term;

    /// <summary>
    /// Follower side of AppendEntries (Figure 2, receiver rules 2–5): if the log holds <paramref name="prev"/>, make it
    /// hold <paramref name="entries"/> right after, truncating at the first conflict, commit up to
    /// min(<paramref name="commit"/>, last new index), and return the last new index. Null when prev does not match.
    /// </summary>
    public LogIndex? TryAppend(EntryId prev, IReadOnlyList<Entry> entries, LogIndex commit)
    {
        if (!Matches(prev)) return null;
        LogIndex lastNew = prev.Index.Plus((ulong)entries.Count);
        int conflict = FirstConflict(entries);
        if (conflict >= 0)
        {
            LogIndex at = entries[conflict].Index;
            if (at <= Committed)
                Invariant.Fail($"entry {entries[conflict].Id} conflicts with committed index {Committed}");
            Append(entries, conflict);
        }
        CommitTo(LogIndex.Min(commit, lastNew));
        return lastNew;
    }

    /// <summary>The offset in <paramref name="entries"/> of the first entry this log lacks or holds with another term; -1 if none.</summary>
    private int FirstConflict(IReadOnlyList<Entry> entries)
    {
        for (int i = 0; i < entries.Count; i++)
            if (!Matches(entries[i].Id)) return i;
        return -1;
    }

    /// <summary>Appends <paramref name="entries"/> from offset <paramref name="from"/>, replacing every entry at or after the first one's index.</summary>
    public void Append(IReadOnlyList<Entry> entries, int from = 0)
    {
        if (from >= entries.Count) return;
        LogIndex first = entries[from].Index;
        if (first <= Committed)
            Invariant.Fail($"append at {first} would overwrite committed entry {Committed}");
        if (first > LastIndex.Next())
            Invariant.Fail($"append at {first} would leave a gap after last index {LastIndex}");
        if (first <= _unstableOffset)
        {
            // The whole tail, and maybe some stored entries, are replaced.
            _unstable.Clear();
            _unstableOffset = first;
        }
        else
        {
            int keep = (int)(first.Value - _unstableOffset.Value);
            _unstable.RemoveRange(keep, _unstable.Count - keep);
        }
        // A truncated configuration entry takes its configuration with it (§4.1): fall back to the one before.
        while (_configs.Count > 0 && _configs[^1].Index >= first) _configs.RemoveAt(_configs.Count - 1);
        for (int i = from; i < entries.Count; i++)
        {
            Invariant.Check(entries[i].Index == first.Plus((ulong)(i - from)));
            _unstable.Add(entries[i]);
        }
        TrackConfigs(entries, from);
    }

    /// <summary>
    /// Replaces the whole log by <paramref name="snapshot"/>, which a leader sent and the log does not already hold.
    /// The shell writes it with the next Ready.
    /// </summary>
    public void Restore(Snapshot snapshot)
    {
        LogIndex index = snapshot.Metadata.Last.Index;
        Invariant.Check(index > Committed);
        _pendingSnapshot = snapshot;
        _unstable.Clear();
        _unstableOffset = index.Next();
        _configs.Clear();
        _baseMembership = snapshot.Metadata.Membership;
        Committed = index;
    }

    /// <summary>The shell wrote <paramref name="snapshot"/> and its state machine now stands at it.</summary>
    public void SnapshotStable(Snapshot snapshot)
    {
        if (ReferenceEquals(_pendingSnapshot, snapshot)) _pendingSnapshot = null;
        if (snapshot.Metadata.Last.Index > Applied) Applied = snapshot.Metadata.Last.Index;
    }

    /// <summary>
    /// For fast back-off (etcd's findConflictByTerm): the last entry at or before <paramref name="index"/> whose term
    /// is at most <paramref name="term"/>. A log that agrees with the other side anywhere agrees at or before it.
    /// </summary>
    public EntryId LastEntryAtOrBefore(LogIndex index, Term term)
    {
        LogIndex i = LogIndex.Min(index, LastIndex);
        while (true)
        {
            if (!TryTermAt(i, out Term t)) return new EntryId(default, default);   // compacted: no hint
            if (t <= term || i.Value == 0) return new EntryId(t, i);
            i = i.Previous();
        }
    }

    public void CommitTo(LogIndex index)
    {
        if (index <= Committed) return;
        if (index > LastIndex)
            Invariant.Fail($"commit {index} is past the last index {LastIndex}");
        Committed = index;
    }

    /// <summary>Copies entries in [<paramref name="from"/>, <paramref name="to"/>) into <paramref name="into"/>, at most
    /// <paramref name="maxCount"/> of them and <paramref name="maxBytes"/> in all, but always one when the range is not empty.</summary>
    public void Slice(LogIndex from, LogIndex to, int maxCount, long maxBytes, List<Entry> into)
    {
        if (from >= to) return;
        Invariant.Check(from >= FirstIndex && to <= LastIndex.Next());
        int start = into.Count;
        if (from < _unstableOffset)
        {
            LogIndex storedEnd = LogIndex.Min(to, _unstableOffset);
            _storage.CopyEntries(from, storedEnd, maxBytes, into);
            if (into.Count - start > maxCount) into.RemoveRange(start + maxCount, into.Count - start - maxCount);
            if (into.Count - start < (int)(storedEnd.Value - from.Value)) return;   // a limit stopped it
            from = storedEnd;
        }
        long bytes = 0;
        for (int i = start; i < into.Count; i++) bytes += into[i].SizeBytes;
        for (LogIndex i = from; i < to; i = i.Next())
        {
            Entry e = _unstable[(int)(i.Value - _unstableOffset.Value)];
            bytes += e.SizeBytes;
            if (into.Count > start && (bytes > maxBytes || into.Count - start >= maxCount)) return;
            into.Add(e);
        }
    }

    /// <summary>The unstable tail, to be written by the shell.</summary>
    public Entry[] UnstableEntries() => _unstable.ToArray();

    /// <summary>The shell has written entries up to <paramref name="last"/>; drop them from the tail unless it changed meanwhile.</summary>
    public void StableTo(EntryId last)
    {
        if (last.Index < _unstableOffset || _unstable.Count == 0) return;
        ulong offset = last.Index.Value - _unstableOffset.Value;
        if (offset >= (ulong)_unstable.Count || _unstable[(int)offset].Term != last.Term) return;   // truncated since
        _unstable.RemoveRange(0, (int)offset + 1);
        _unstableOffset = last.Index.Next();
    }

    /// <summary>Committed entries not yet handed out for applying, up to <paramref name="maxBytes"/> (at least one).</summary>
    public Entry[] NextCommittedEntries(long maxBytes)
    {
        if (!HasNextCommitted || _pendingSnapshot is not null) return [];   // the snapshot goes first
        var into = new List<Entry>();
        Slice(Applied.Next(), Committed.Next(), int.MaxValue, maxBytes, into);
        return into.ToArray();
    }

    public void AppliedTo(LogIndex index)
    {
        if (index < Applied || index > Committed)
            Invariant.Fail($"applied {index} is outside [{Applied}, {Committed}]");
        Applied = index;
    }
}
