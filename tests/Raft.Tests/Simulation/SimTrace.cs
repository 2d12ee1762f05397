using System.Text;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// The last events of a run, kept in a ring and formatted only when a failure asks for them: a run records about a
/// million events, and building a string for each would cost more than the simulation itself.
/// </summary>
public sealed class SimTrace(int capacity = 400)
{
    private readonly (long Step, string Kind, ulong Node, object? Detail)[] _events = new (long, string, ulong, object?)[capacity];
    private long _count;

    public void Add(long step, string kind, ulong node, object? detail = null)
    {
        _events[_count % _events.Length] = (step, kind, node, detail);
        _count++;
    }

    public string Tail(int lines)
    {
        var text = new StringBuilder();
        long first = Math.Max(0, _count - Math.Min(lines, _events.Length));
        for (long i = first; i < _count; i++)
        {
            var (step, kind, node, detail) = _events[i % _events.Length];
            text.Append("  #").Append(step).Append(" n").Append(node).Append(' ').Append(kind);
            if (detail is not null) text.Append(' ').Append(detail);
            text.AppendLine();
        }
        return text.ToString();
    }
}
