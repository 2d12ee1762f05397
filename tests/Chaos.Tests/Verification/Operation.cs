namespace KvActors.Chaos.Tests.Verification;

/// <summary>How an operation ended.</summary>
public enum Outcome { Ok, Info }

/// <summary>
/// One invocation paired with its completion. An <see cref="Outcome.Info"/> operation may have taken effect at any
/// time after its invocation, or never: its completion is at infinity (<see cref="long.MaxValue"/>).
/// </summary>
public sealed record Operation(int Id, int Process, string F, string Key, string? Value, string? Expected, string? Read, bool? Succeeded,
    long Invoke, long Complete, Outcome Outcome)
{
    public override string ToString()
    {
        string what = F switch
        {
            HistoryEvent.Put => $"put {Key} {Value}",
            HistoryEvent.Delete => $"delete {Key}",
            HistoryEvent.Get => $"get {Key} -> {Read ?? "absent"}",
            _ => $"cas {Key} {Expected ?? "absent"} -> {Value}" + (Succeeded is { } s ? (s ? " succeeded" : " failed") : ""),
        };
        string end = Outcome == Outcome.Info ? "unknown" : $"{Complete / 1_000_000.0:F3} ms";
        return $"p{Process} {what} [{Invoke / 1_000_000.0:F3} ms, {end}]{(Outcome == Outcome.Info ? " (info)" : "")}";
    }
}

/// <summary>Pairs a history's invocations with their completions, and reports what is malformed.</summary>
public static class Operations
{
    /// <summary>
    /// The operations to check: every invoke with its ok or info completion (or none: info). Fail completions certainly
    /// did not take effect and are dropped, as are reads that did not complete ok (a read has no effect).
    /// </summary>
    public static List<Operation> From(IReadOnlyList<HistoryEvent> history, List<Anomaly> anomalies)
    {
        var open = new Dictionary<int, HistoryEvent>();
        var ended = new HashSet<int>();
        var operations = new List<Operation>();
        foreach (HistoryEvent e in history)
        {
            if (ended.Contains(e.Process))
            {
                anomalies.Add(new Anomaly("malformed history", $"process {e.Process} went on after an info: {e}", []));
                continue;
            }
            if (e.Type == HistoryEvent.Invoke)
            {
                if (open.ContainsKey(e.Process))
                    anomalies.Add(new Anomaly("malformed history", $"process {e.Process} invoked {e} with another operation outstanding", []));
                open[e.Process] = e;
                continue;
            }
            if (!open.Remove(e.Process, out HistoryEvent? invoke))
            {
                anomalies.Add(new Anomaly("malformed history", $"a completion without an invocation: {e}", []));
                continue;
            }
            if (e.Type == HistoryEvent.Info) ended.Add(e.Process);
            if (e.Type == HistoryEvent.Fail || (invoke.F == HistoryEvent.Get && e.Type != HistoryEvent.Ok)) continue;
            operations.Add(Pair(operations.Count, invoke, e.Type == HistoryEvent.Ok ? e : null));
        }
        foreach (HistoryEvent invoke in open.Values)
        {
            if (invoke.F != HistoryEvent.Get) operations.Add(Pair(operations.Count, invoke, null));
        }
        return operations;
    }

    private static Operation Pair(int id, HistoryEvent invoke, HistoryEvent? ok) => new(
        id, invoke.Process, invoke.F, invoke.Key, invoke.F == HistoryEvent.Get ? null : invoke.Value, invoke.Expected,
        invoke.F == HistoryEvent.Get ? ok?.Value : null, ok?.Succeeded, invoke.Time, ok?.Time ?? long.MaxValue,
        ok is null ? Outcome.Info : Outcome.Ok);
}

/// <summary>Something a check found: a kind (e.g. "not linearizable"), one line, and the operations that show it.</summary>
public sealed record Anomaly(string Kind, string Description, IReadOnlyList<Operation> Window)
{
    public override string ToString() => Window.Count == 0
        ? $"{Kind}: {Description}"
        : $"{Kind}: {Description}{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", Window);
}
