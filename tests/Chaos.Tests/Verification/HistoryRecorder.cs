using System.Diagnostics;

namespace KvActors.Chaos.Tests.Verification;

/// <summary>Collects a run's events from many client tasks, timed by one monotonic clock.</summary>
public sealed class HistoryRecorder
{
    private readonly List<HistoryEvent> _events = [];
    private readonly long _origin = Stopwatch.GetTimestamp();

    /// <summary>Nanoseconds since the recorder was made.</summary>
    public long Now() => (long)((Stopwatch.GetTimestamp() - _origin) * (1_000_000_000.0 / Stopwatch.Frequency));

    public void Add(HistoryEvent e)
    {
        lock (_events) _events.Add(e);
    }

    public IReadOnlyList<HistoryEvent> Events
    {
        get
        {
            lock (_events) return [.. _events];
        }
    }
}
