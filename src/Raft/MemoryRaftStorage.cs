using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft;

/// <summary>
/// An <see cref="IRaftStorage"/> held in memory: the test double for a disk, and the in-memory copy of a log that a
/// shell has already written to its real journal. Not thread-safe: one shell thread writes and reads it.
/// </summary>
public sealed class MemoryRaftStorage : IRaftStorage
{
    // _entries[0] stands for the entry the snapshot ends at (id (0, 0) before any snapshot); real entries follow.
    private readonly List<Entry> _entries = [];
    private HardState _hardState;
    private Snapshot _snapshot;

    /// <summary>An empty log whose group starts with <paramref name="membership"/> (<see cref="Membership.Empty"/> for a replica that joins later).</summary>
    public MemoryRaftStorage(Membership membership)
    {
        _snapshot = Raft.Snapshot.None(membership);
        _entries.Add(SnapshotMarker(_snapshot));
    }

    /// <summary>The hard state last written.</summary>
    public HardState HardState => _hardState;

    /// <inheritdoc />
    public RaftInitialState InitialState() => new(_hardState, _snapshot.Metadata.Membership);

    /// <inheritdoc />
    public Snapshot Snapshot() => _snapshot;

    /// <inheritdoc />
    public LogIndex FirstIndex() => _entries[0].Index.Next();

    /// <inheritdoc />
    public LogIndex LastIndex() => _entries[0].Index.Plus((ulong)(_entries.Count - 1));

    /// <inheritdoc />
    public Term TermAt(LogIndex index) => _entries[Offset(index)].Term;

    /// <inheritdoc />
    public void CopyEntries(LogIndex from, LogIndex to, long maxBytes, List<Entry> into)
    {
        if (from >= to) return;
        if (from < FirstIndex() || to > LastIndex().Next())
            throw new ArgumentOutOfRangeException(nameof(from), $"[{from}, {to}) is outside the stored [{FirstIndex()}, {LastIndex()}]");
        long bytes = 0;
        int start = Offset(from), end = start + checked((int)(to.Value - from.Value));
        for (int i = start; i < end; i++)
        {
            bytes += _entries[i].SizeBytes;
            if (bytes > maxBytes && i > start) return;
            into.Add(_entries[i]);
        }
    }

    /// <summary>The stored entry at <paramref name="index"/>, in [FirstIndex, LastIndex].</summary>
    public Entry EntryAt(LogIndex index)
    {
        if (index < FirstIndex()) throw new ArgumentOutOfRangeException(nameof(index), $"{index} is before the first stored entry {FirstIndex()}");
        return _entries[Offset(index)];
    }

    /// <summary>Records a new hard state.</summary>
    public void SetHardState(HardState hardState) => _hardState = hardState;

    /// <summary>
    /// Appends <paramref name="entries"/> (consecutive). The first one may land at any index up to
    /// <c>LastIndex() + 1</c>; every stored entry at or after it is replaced, as <see cref="Ready.Entries"/> demands.
    /// </summary>
    public void Append(IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0) return;
        LogIndex first = entries[0].Index;
        if (first < FirstIndex() || first > LastIndex().Next())
            throw new ArgumentOutOfRangeException(nameof(entries), $"appending at {first} would leave a gap or rewrite compacted entries (stored [{FirstIndex()}, {LastIndex()}])");
        int at = checked((int)(first.Value - _entries[0].Index.Value));
        _entries.RemoveRange(at, _entries.Count - at);
        for (int i = 0; i < entries.Count; i++)
        {
            Invariant.Check(entries[i].Index == first.Plus((ulong)i));
            _entries.Add(entries[i]);
        }
    }

    /// <summary>
    /// Keeps <paramref name="snapshot"/>, made by the shell from its own state machine, and drops the entries it
    /// covers. Its last index must be stored, with the same term.
    /// </summary>
    public void Compact(Snapshot snapshot)
    {
        EntryId last = snapshot.Metadata.Last;
        if (last.Index <= _snapshot.Metadata.Last.Index) return;   // an older snapshot than the one kept
        if (last.Index > LastIndex() || TermAt(last.Index) != last.Term)
            throw new ArgumentOutOfRangeException(nameof(snapshot), $"snapshot at {last} does not match the stored log [{FirstIndex()}, {LastIndex()}]");
        _entries.RemoveRange(0, Offset(last.Index));
        _entries[0] = SnapshotMarker(snapshot);
        _snapshot = snapshot;
    }

    /// <summary>Replaces the whole log by <paramref name="snapshot"/> (a follower restoring one its leader sent).</summary>
    public void ApplySnapshot(Snapshot snapshot)
    {
        _entries.Clear();
        _entries.Add(SnapshotMarker(snapshot));
        _snapshot = snapshot;
    }

    private static Entry SnapshotMarker(Snapshot snapshot) =>
        new(snapshot.Metadata.Last, EntryKind.Noop, ReadOnlyMemory<byte>.Empty);

    private int Offset(LogIndex index)
    {
        LogIndex before = _entries[0].Index;
        if (index < before || index > LastIndex())
            throw new ArgumentOutOfRangeException(nameof(index), $"{index} is outside the stored [{before}, {LastIndex()}]");
        return checked((int)(index.Value - before.Value));
    }
}
