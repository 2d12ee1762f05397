namespace KvActors.Chaos.Tests.Verification;

/// <summary>What checking one history found.</summary>
public sealed record CheckResult(int Operations, int Keys, IReadOnlyList<Anomaly> Anomalies)
{
    public bool Ok => Anomalies.Count == 0;

    public string Summary => Ok
        ? $"{Operations} operations on {Keys} keys: linearizable, nothing lost, nothing applied twice"
        : $"{Operations} operations on {Keys} keys: {Anomalies.Count} anomalies ({string.Join(", ", Anomalies.Select(a => a.Kind).Distinct())})";

    public override string ToString() => Ok ? Summary : Summary + Environment.NewLine + string.Join(Environment.NewLine, Anomalies);
}

/// <summary>
/// The checks of a chaos history: malformed events; per-key linearizability of a register (<see cref="RegisterChecker"/>);
/// acknowledged writes lost by the end (a key written once, acknowledged, that the final reader, process 0, does not
/// read back); and values that reappear after a later value was read (a write applied twice, or a stale read).
/// Values are unique per write in every workload, which is what makes the last two checks possible.
/// </summary>
public static class HistoryChecker
{
    /// <summary>
    /// How many process numbers (0 up to this, exclusive) are kept for the readers that read every key once more after
    /// the cluster healed; workload processes are numbered from here on.
    /// </summary>
    public const int FinalReaders = 8;

    /// <summary>Whether <paramref name="process"/> is one of the final readers.</summary>
    public static bool IsFinalReader(int process) => process is >= 0 and < FinalReaders;

    public static CheckResult Check(IReadOnlyList<HistoryEvent> history, long maxStatesPerKey = 5_000_000)
    {
        var anomalies = new List<Anomaly>();
        List<Operation> operations = Operations.From(history, anomalies);
        var byKey = operations.GroupBy(o => o.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        foreach (IGrouping<string, Operation> key in byKey)
        {
            Operation[] ops = [.. key];
            RegisterChecker.Result result = RegisterChecker.Check(ops, maxStatesPerKey);
            if (result.Exhausted)
                anomalies.Add(new Anomaly("unknown", $"key {key.Key}: the search gave up after {result.States:N0} states ({ops.Length} operations)", []));
            else if (!result.Linearizable)
                anomalies.Add(new Anomaly("not linearizable",
                    $"key {key.Key}: no order of its {ops.Length} operations fits a register; stuck at {result.Stuck}; the operations concurrent with it:",
                    result.Window));
            LostWrites(key.Key, ops, anomalies);
            Reappearing(key.Key, ops, anomalies);
        }
        return new CheckResult(operations.Count, byKey.Count, anomalies);
    }

    /// <summary>A key written exactly once, acknowledged, must be what the final reader reads.</summary>
    private static void LostWrites(string key, Operation[] ops, List<Anomaly> anomalies)
    {
        Operation[] writes = [.. ops.Where(o => o.F != HistoryEvent.Get)];
        if (writes is not [{ F: HistoryEvent.Put, Outcome: Outcome.Ok } write]) return;
        foreach (Operation read in ops.Where(o => o.F == HistoryEvent.Get && IsFinalReader(o.Process) && o.Invoke > write.Complete))
        {
            if (read.Read != write.Value)
                anomalies.Add(new Anomaly("lost write", $"key {key}: {write.Value} was acknowledged, the final read found {read.Read ?? "nothing"}", [write, read]));
        }
    }

    /// <summary>
    /// A read of value a, then (strictly later) a read of a newer value b, then (strictly later) a read of a again,
    /// while a was written only once: a was applied twice, or the last read was stale.
    /// </summary>
    private static void Reappearing(string key, Operation[] ops, List<Anomaly> anomalies)
    {
        var writesOf = ops.Where(o => o.F is HistoryEvent.Put or HistoryEvent.Cas && o.Value is not null)
            .GroupBy(o => o.Value!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        Operation[] reads = [.. ops.Where(o => o is { F: HistoryEvent.Get, Read: not null }).OrderBy(o => o.Invoke)];
        var lastSeenEnd = new Dictionary<string, Operation>(StringComparer.Ordinal);     // value -> the first read of it
        foreach (Operation read in reads)
        {
            string value = read.Read!;
            if (lastSeenEnd.TryGetValue(value, out Operation? earlier) && writesOf.GetValueOrDefault(value) == 1)
            {
                Operation? between = reads.FirstOrDefault(r => r.Read != value && r.Invoke > earlier.Complete && r.Complete < read.Invoke
                    && WrittenAfter(ops, r.Read, earlier));
                if (between is not null)
                {
                    anomalies.Add(new Anomaly("value reappeared",
                        $"key {key}: {value} was read, then {between.Read}, then {value} again (written once: applied twice, or a stale read)",
                        [earlier, between, read]));
                    return;
                }
            }
            lastSeenEnd.TryAdd(value, read);
        }
    }

    /// <summary>True when <paramref name="value"/> was written by an operation invoked after <paramref name="read"/> completed.</summary>
    private static bool WrittenAfter(Operation[] ops, string? value, Operation read) =>
        ops.Any(o => o.F is HistoryEvent.Put or HistoryEvent.Cas && o.Value == value && o.Invoke > read.Complete);

    /// <summary>The bank invariant: every read of all accounts sums to <paramref name="total"/>.</summary>
    public static IReadOnlyList<Anomaly> Bank(IEnumerable<(long Time, int Process, IReadOnlyList<long> Balances)> reads, long total)
    {
        foreach ((long time, int process, IReadOnlyList<long> balances) in reads)
        {
            long sum = balances.Sum();
            if (sum != total)
                return [new Anomaly("bank total", $"process {process} at {time / 1_000_000.0:F3} ms read balances [{string.Join(", ", balances)}] summing to {sum}, not {total}", [])];
        }
        return [];
    }
}
