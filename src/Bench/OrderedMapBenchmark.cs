using System.Diagnostics;
using System.Globalization;
using KvActors.Node.StateMachine;

namespace KvActors.Bench;

/// <summary>
/// Measures candidate ordered maps for the state machine at 1,000,000 keys (16-byte random keys, 100-byte
/// values): fill (random inserts into an empty map), insert into the full map, point get, and a range of 100
/// consecutive pairs from a random key; plus the memory the structure itself takes (keys and values are
/// shared by all candidates and not counted). One line per candidate.
/// </summary>
internal static class OrderedMapBenchmark
{
    private const int Keys = 1_000_000;
    private const int KeyBytes = 16;
    private const int ValueBytes = 100;
    private const int RangeLength = 100;

    /// <summary>Runs every candidate and writes one line each to <paramref name="output"/>.</summary>
    public static void Run(TextWriter output)
    {
        // Tier the JIT up on a small data set first, so the measured runs use optimized code.
        Data warmUp = Data.Create(20_000, seed: 7);
        foreach (Func<ICandidate> create in Candidates())
            Measure(create(), warmUp, rangeCount: 200, insertCount: 200);

        Data data = Data.Create(Keys, seed: 42);
        output.WriteLine(Invariant(
            $"ordered-map: {Keys:N0} keys of {KeyBytes} random bytes, {ValueBytes}-byte values; the keys and values themselves take {data.SharedBytes / 1e6:F0} MB, not counted below"));
        foreach (Func<ICandidate> create in Candidates())
        {
            ICandidate candidate = create();
            Result result = Measure(candidate, data, candidate.RangeIsScan ? 20 : 100_000, candidate.InsertIsShift ? 1_000 : 20_000);
            output.WriteLine(result.Line(candidate));
            output.Flush();
        }
    }

    private static IEnumerable<Func<ICandidate>> Candidates()
    {
        yield return static () => new SortedDictionaryCandidate();
        yield return static () => new SortedSetCandidate();
        yield return static () => new SortedListCandidate();
        yield return static () => new BPlusTreeCandidate();
    }

    private static Result Measure(ICandidate candidate, Data data, int rangeCount, int insertCount)
    {
        long before = Memory();
        double fill;
        if (candidate.InsertIsShift)
        {
            // Random inserts shift half the array each: 1 M of them would take many minutes. Load in key order.
            candidate.LoadSorted(data.SortedKeys, data.SortedValues);
            fill = double.NaN;
        }
        else
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < data.Keys.Length; i++)
                candidate.Add(data.Keys[i], data.Values[i]);
            fill = PerOperation(start, data.Keys.Length);
        }
        long memory = Memory() - before;

        long getStart = Stopwatch.GetTimestamp();
        int found = 0;
        for (int i = 0; i < data.Probes.Length; i++)
            found += candidate.Get(data.Keys[data.Probes[i]]) ? 1 : 0;
        double get = PerOperation(getStart, data.Probes.Length);
        if (found != data.Probes.Length) throw new InvalidOperationException($"{candidate.Name} lost keys: found {found} of {data.Probes.Length}");

        long rangeStart = Stopwatch.GetTimestamp();
        long scanned = 0;
        for (int i = 0; i < rangeCount; i++)
            scanned += candidate.Range(data.Keys[data.Probes[i]], RangeLength);
        double range = PerOperation(rangeStart, rangeCount);
        if (scanned == 0) throw new InvalidOperationException($"{candidate.Name} ranges returned nothing");

        int inserts = Math.Min(insertCount, data.ExtraKeys.Length);
        long insertStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < inserts; i++)
            candidate.Add(data.ExtraKeys[i], data.Values[i]);
        double insert = PerOperation(insertStart, inserts);
        return new Result(fill, insert, get, range, memory);
    }

    private static double PerOperation(long startTimestamp, int operations) =>
        Stopwatch.GetElapsedTime(startTimestamp).TotalNanoseconds / operations;

    private static long Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private readonly record struct Result(double Fill, double Insert, double Get, double Range, long MemoryBytes)
    {
        public string Line(ICandidate candidate) => Invariant(
            $"ordered-map: {candidate.Name,-34} fill {(double.IsNaN(Fill) ? "n/a (loaded in key order)" : Fill.ToString("N0", CultureInfo.InvariantCulture) + " ns/op"),-25} insert-at-1M {Insert,9:N0} ns/op  get {Get,7:N0} ns/op  range-100 {Range,12:N0} ns/op  memory {MemoryBytes / 1e6,6:F1} MB");
    }

    private sealed class Data
    {
        public required byte[][] Keys { get; init; }
        public required byte[][] SortedKeys { get; init; }
        public required byte[][] ExtraKeys { get; init; }
        public required int[] Probes { get; init; }
        public required VersionedValue[] Values { get; init; }
        public required VersionedValue[] SortedValues { get; init; }
        public long SharedBytes { get; init; }

        public static Data Create(int count, int seed)
        {
            var random = new Random(seed);
            var unique = new HashSet<string>();
            byte[][] all = new byte[count + 20_000][];
            for (int i = 0; i < all.Length; i++)
            {
                byte[] key = new byte[KeyBytes];
                do random.NextBytes(key);
                while (!unique.Add(Convert.ToHexString(key)));
                all[i] = key;
            }
            byte[][] keys = all[..count];
            // Each key has its own value, allocated in insertion order as a real load would.
            var values = new VersionedValue[count];
            for (int i = 0; i < count; i++) values[i] = new VersionedValue(new byte[ValueBytes], 1, 1, 1);
            byte[][] sorted = (byte[][])keys.Clone();
            VersionedValue[] sortedValues = (VersionedValue[])values.Clone();
            Array.Sort(sorted, sortedValues, ByteArrayComparer.Instance);
            int[] probes = new int[count];
            for (int i = 0; i < count; i++) probes[i] = i;
            random.Shuffle(probes);
            return new Data
            {
                Keys = keys,
                SortedKeys = sorted,
                ExtraKeys = all[count..],
                Probes = probes,
                Values = values,
                SortedValues = sortedValues,
                SharedBytes = (long)count * (KeyBytes + 24 + ValueBytes + 24),
            };
        }
    }

    private interface ICandidate
    {
        string Name { get; }
        bool InsertIsShift => false;
        bool RangeIsScan => false;
        void Add(byte[] key, VersionedValue value);
        void LoadSorted(byte[][] sortedKeys, VersionedValue[] values) => throw new NotSupportedException();
        bool Get(byte[] key);
        long Range(byte[] start, int count);
    }

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    private sealed class SortedDictionaryCandidate : ICandidate
    {
        private readonly SortedDictionary<byte[], VersionedValue> _map = new(ByteArrayComparer.Instance);
        public string Name => "SortedDictionary (red-black tree)";
        public bool RangeIsScan => true;
        public void Add(byte[] key, VersionedValue value) => _map[key] = value;
        public bool Get(byte[] key) => _map.TryGetValue(key, out _);

        // No seek: a range walks from the first key.
        public long Range(byte[] start, int count)
        {
            long sum = 0;
            int taken = 0;
            foreach (KeyValuePair<byte[], VersionedValue> pair in _map)
            {
                if (pair.Key.AsSpan().SequenceCompareTo(start) < 0) continue;
                sum += pair.Value.Value.Length;
                if (++taken == count) break;
            }
            return sum;
        }
    }

    private sealed class SortedSetCandidate : ICandidate
    {
        private static readonly Entry Top = new([], default);
        private readonly SortedSet<Entry> _set = new(EntryComparer.Instance);
        private readonly Entry _probe = new([], default);
        public string Name => "SortedSet + GetViewBetween";
        public void Add(byte[] key, VersionedValue value)
        {
            var entry = new Entry(key, value);
            if (!_set.Add(entry))
            {
                _set.Remove(entry);
                _set.Add(entry);
            }
        }

        public bool Get(byte[] key)
        {
            _probe.Key = key;
            return _set.TryGetValue(_probe, out _);
        }

        public long Range(byte[] start, int count)
        {
            long sum = 0;
            int taken = 0;
            foreach (Entry entry in _set.GetViewBetween(new Entry(start, default), Top))
            {
                sum += entry.Value.Value.Length;
                if (++taken == count) break;
            }
            return sum;
        }

        private sealed class Entry(byte[] key, VersionedValue value)
        {
            public byte[] Key = key;
            public readonly VersionedValue Value = value;
        }

        private sealed class EntryComparer : IComparer<Entry>
        {
            public static readonly EntryComparer Instance = new();
            public int Compare(Entry? x, Entry? y) =>
                ReferenceEquals(x, y) ? 0 : ReferenceEquals(x, Top) ? 1 : ReferenceEquals(y, Top) ? -1 : x!.Key.AsSpan().SequenceCompareTo(y!.Key);
        }
    }

    private sealed class SortedListCandidate : ICandidate
    {
        private SortedList<byte[], VersionedValue> _list = new(ByteArrayComparer.Instance);
        public string Name => "SortedList (sorted arrays)";
        public bool InsertIsShift => true;
        public void Add(byte[] key, VersionedValue value) => _list[key] = value;

        public void LoadSorted(byte[][] sortedKeys, VersionedValue[] values)
        {
            _list = new SortedList<byte[], VersionedValue>(sortedKeys.Length, ByteArrayComparer.Instance);
            for (int i = 0; i < sortedKeys.Length; i++) _list.Add(sortedKeys[i], values[i]);
        }

        public bool Get(byte[] key) => _list.TryGetValue(key, out _);

        public long Range(byte[] start, int count)
        {
            IList<byte[]> keys = _list.Keys;
            int low = 0, high = keys.Count;
            while (low < high)
            {
                int middle = (low + high) >>> 1;
                if (keys[middle].AsSpan().SequenceCompareTo(start) < 0) low = middle + 1;
                else high = middle;
            }
            long sum = 0;
            int end = Math.Min(keys.Count, low + count);
            for (int i = low; i < end; i++) sum += _list.GetValueAtIndex(i).Value.Length;
            return sum;
        }
    }

    private sealed class BPlusTreeCandidate : ICandidate
    {
        private readonly BPlusTree<VersionedValue> _tree = new();
        public string Name => Invariant($"B+tree ({BPlusTree<VersionedValue>.LeafCapacity}/node, counted) [chosen]");
        public void Add(byte[] key, VersionedValue value) => _tree.GetValueRefOrAddDefault(key, out _) = value;
        public bool Get(byte[] key) => _tree.TryGetValue(key, out _);

        public long Range(byte[] start, int count)
        {
            long sum = 0;
            int taken = 0;
            for (BPlusTree<VersionedValue>.Cursor cursor = _tree.Seek(start); cursor.IsValid && taken < count; cursor.MoveNext(), taken++)
                sum += cursor.Value.Value.Length;
            return sum;
        }
    }
}
