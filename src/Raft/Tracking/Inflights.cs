using KvActors.Raft.Ids;

namespace KvActors.Raft.Tracking;

/// <summary>
/// The append messages in flight to one follower, oldest first, each by the last index it carries and its size.
/// Bounded by count and by bytes: when full, the leader sends nothing more until answers free room.
/// </summary>
internal sealed class Inflights(int maxCount, long maxBytes)
{
    private readonly Queue<(LogIndex Last, long Bytes)> _queue = new();

    public int Count => _queue.Count;

    public long Bytes { get; private set; }

    public bool IsFull => _queue.Count >= maxCount || Bytes >= maxBytes;

    public void Add(LogIndex last, long bytes)
    {
        Invariant.Check(!IsFull);
        _queue.Enqueue((last, bytes));
        Bytes += bytes;
    }

    /// <summary>Frees every message whose entries end at or before <paramref name="index"/> (the follower has them).</summary>
    public void FreeUpTo(LogIndex index)
    {
        while (_queue.Count > 0 && _queue.Peek().Last <= index) Bytes -= _queue.Dequeue().Bytes;
    }

    /// <summary>Frees the oldest message, so that a heartbeat answer lets a stuck window move again.</summary>
    public void FreeFirst()
    {
        if (_queue.Count > 0) Bytes -= _queue.Dequeue().Bytes;
    }

    public void Clear()
    {
        _queue.Clear();
        Bytes = 0;
    }
}
