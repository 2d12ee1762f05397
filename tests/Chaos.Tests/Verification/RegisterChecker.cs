namespace KvActors.Chaos.Tests.Verification;

/// <summary>
/// Whether one key's operations are linearizable as a register (put sets, delete makes absent, get reads, cas sets only
/// if the value is as expected): the Wing–Gong search with Lowe's memoization, as in porcupine. Operations are call and
/// return entries in time order; the search linearizes a pending call whose effect the register allows, and backtracks
/// when it meets the return of an operation it has not placed. A (placed set, register value) pair already explored is
/// not explored again. An info operation returns at infinity and may stay unplaced: it may never have taken effect.
/// </summary>
public static class RegisterChecker
{
    /// <summary>What the search found for one key.</summary>
    /// <param name="Linearizable">An order exists.</param>
    /// <param name="Exhausted">The search stopped at its limit: nothing is known.</param>
    /// <param name="Stuck">When not linearizable: the operation the deepest attempt could not place before it returned.</param>
    /// <param name="Window">The operations concurrent with <paramref name="Stuck"/> (it included), in invocation order.</param>
    /// <param name="States">How many (placed set, value) states were explored.</param>
    public sealed record Result(bool Linearizable, bool Exhausted, Operation? Stuck, IReadOnlyList<Operation> Window, long States);

    private sealed class Entry(int op, bool isCall, long time)
    {
        public int Op { get; } = op;
        public bool IsCall { get; } = isCall;
        public long Time { get; } = time;
        public Entry? Match { get; set; }
        public Entry? Prev { get; set; }
        public Entry? Next { get; set; }
    }

    /// <param name="operations">One key's operations (ids need not be dense).</param>
    /// <param name="maxStates">Past this many explored states the search gives up (<see cref="Result.Exhausted"/>).</param>
    public static Result Check(IReadOnlyList<Operation> operations, long maxStates = 5_000_000)
    {
        int n = operations.Count;
        var entries = new List<Entry>(2 * n);
        for (int i = 0; i < n; i++)
        {
            var call = new Entry(i, isCall: true, operations[i].Invoke);
            var ret = new Entry(i, isCall: false, operations[i].Complete);
            call.Match = ret;
            entries.Add(call);
            entries.Add(ret);
        }
        // Calls before returns at equal times: the most concurrency the timestamps allow.
        entries.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : b.IsCall.CompareTo(a.IsCall));
        var head = new Entry(-1, isCall: false, long.MinValue);
        Entry last = head;
        foreach (Entry e in entries)
        {
            last.Next = e;
            e.Prev = last;
            last = e;
        }

        var placed = new ulong[(n + 63) / 64];
        var seen = new HashSet<StateKey>();
        var stack = new Stack<(Entry Call, string? Before)>();
        string? value = null;             // absent before the first write
        long states = 0;
        int deepest = -1;
        Entry? stuck = null;
        Entry? entry = head.Next;
        while (entry is not null)
        {
            Operation op = operations[entry.Op];
            if (entry.IsCall)
            {
                if (Step(op, value, out string? after))
                {
                    Set(placed, entry.Op, true);
                    if (seen.Add(new StateKey((ulong[])placed.Clone(), after)))
                    {
                        if (++states > maxStates) return new Result(false, true, null, [], states);
                        stack.Push((entry, value));
                        value = after;
                        Lift(entry);
                        entry = head.Next;
                        continue;
                    }
                    Set(placed, entry.Op, false);
                }
                entry = entry.Next;
                continue;
            }
            // The return of an operation not yet placed.
            if (op.Outcome == Outcome.Info) return new Result(true, false, null, [], states);   // only info operations are left
            if (stack.Count > deepest)
            {
                deepest = stack.Count;
                stuck = entry;
            }
            if (stack.Count == 0) break;
            (Entry call, string? before) = stack.Pop();
            Set(placed, call.Op, false);
            value = before;
            Unlift(call);
            entry = call.Next;
        }
        if (head.Next is null) return new Result(true, false, null, [], states);
        Operation blocked = operations[stuck!.Op];
        Operation[] window = [.. operations
            .Where(o => o.Invoke <= blocked.Complete && o.Complete >= blocked.Invoke)
            .OrderBy(o => o.Invoke)
            .Take(20)];
        return new Result(false, false, blocked, window, states);
    }

    /// <summary>What <paramref name="op"/> does to a register holding <paramref name="value"/>; false if it could not
    /// have happened there (a get that read something else, a cas whose reported outcome does not fit).</summary>
    private static bool Step(Operation op, string? value, out string? after)
    {
        after = value;
        switch (op.F)
        {
            case HistoryEvent.Put:
                after = op.Value;
                return true;
            case HistoryEvent.Delete:
                after = null;
                return true;
            case HistoryEvent.Get:
                return op.Read == value;
            default:
                bool matches = op.Expected == value;
                if (op.Succeeded is null)               // info: it took effect exactly when it matched
                {
                    if (matches) after = op.Value;
                    return true;
                }
                if (op.Succeeded.Value != matches) return false;
                if (matches) after = op.Value;
                return true;
        }
    }

    private static void Lift(Entry call)
    {
        call.Prev!.Next = call.Next;
        if (call.Next is not null) call.Next.Prev = call.Prev;
        Entry ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null) ret.Next.Prev = ret.Prev;
    }

    private static void Unlift(Entry call)
    {
        Entry ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null) ret.Next.Prev = ret;
        call.Prev!.Next = call;
        if (call.Next is not null) call.Next.Prev = call;
    }

    private static void Set(ulong[] bits, int i, bool on)
    {
        if (on) bits[i >> 6] |= 1UL << (i & 63);
        else bits[i >> 6] &= ~(1UL << (i & 63));
    }

    private readonly struct StateKey(ulong[] placed, string? value) : IEquatable<StateKey>
    {
        private readonly ulong[] _placed = placed;
        private readonly string? _value = value;

        public bool Equals(StateKey other) => _value == other._value && _placed.AsSpan().SequenceEqual(other._placed);

        public override bool Equals(object? obj) => obj is StateKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (ulong word in _placed) hash.Add(word);
            hash.Add(_value);
            return hash.ToHashCode();
        }
    }
}
