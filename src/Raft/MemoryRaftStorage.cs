using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft;

/// <summary>
/// An <see cref="IRaftStorage"/> held in memory: the test double for a disk, and the in-memory copy of a log that a
/// shell has already written to its real journal. Not thread-safe: one shell thread writes and reads it.
/// </summary>
public sealed class MemoryRaftStorage : IRaftStorage
{
    // _entries[0] stands for the entry before the first stored one: its id is (0, 0) until the log is compacted.
    private readonly List<Entry> _entries = [new Entry(default, EntryKind.Noop, ReadOnlyMemory<byte>.Empty)];
    private HardState _hardState;
    private Membership _membership;

    /// <summary>An empty log whose group starts with <paramref name="membership"/>.</summary>
    public MemoryRaftStorage(Membership membership) => _membership = membership;

    /// <summary>The hard state last written.</summary>
    public HardState HardState => _hardState;

    /// <inheritdoc />
    public RaftInitialState InitialState() => new(_hardState, _membership);

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

    private int Offset(LogIndex index)
    {
        LogIndex before = _entries[0].Index;
        if (index < before || index > LastIndex())
            throw new ArgumentOutOfRangeException(nameof(index), $"{index} is outside the stored [{before}, {LastIndex()}]");
        return checked((int)(index.Value - before.Value));
    }
}
