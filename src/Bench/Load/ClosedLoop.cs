using System.Diagnostics;
using HdrHistogram;

namespace KvActors.Bench.Load;

/// <summary>How much load a row puts on a system, and for how long.</summary>
/// <param name="Keys">Keys are <c>key0</c> .. <c>key{Keys-1}</c>, all preloaded; each request picks one uniformly.</param>
/// <param name="ValueBytes">The size of every value written.</param>
/// <param name="Warmup">Run, unmeasured, before the window.</param>
/// <param name="Duration">The measured window.</param>
internal sealed record LoadSettings(int Keys, int ValueBytes, TimeSpan Warmup, TimeSpan Duration)
{
    /// <summary>The benchmark's defaults: 100,000 keys, 256-byte values, 2 s warm-up, 10 s measured.</summary>
    public static LoadSettings Default { get; } = new(100_000, 256, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));

    public static string Key(int index) => "key" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What one row measured: one workload at one number of clients against one system, in one repeat.</summary>
internal sealed record RowResult(
    string System, Workload Workload, int Clients, int Repeat,
    long Ops, long Errors, double Seconds,
    double P50Ms, double P99Ms, double P999Ms, double MaxMs,
    double ServerCpuSeconds, double ClientCpuSeconds, string? FirstError)
{
    public double OpsPerSecond => Ops / Seconds;

    /// <summary>CPU seconds the system's server processes spent per 1,000 completed operations.</summary>
    public double ServerCpuPer1000Ops => Ops == 0 ? double.NaN : ServerCpuSeconds / Ops * 1000;

    public string Label => $"{Workload.Name()}@{Clients}";
}

/// <summary>A running row's numbers so far, for the live display.</summary>
internal readonly record struct RowProgress(bool Measuring, TimeSpan Elapsed, long Ops, long Errors);

/// <summary>
/// The closed loop: N clients, each with one request outstanding, for a warm-up and then a measured window. An
/// operation counts when it both started and finished inside the window; its latency goes into an HdrHistogram (µs,
/// 3 significant digits). A failed operation is counted as an error, never retried into a success.
/// </summary>
internal static class ClosedLoop
{
    private static readonly long HighestMicros = (long)TimeSpan.FromMinutes(2).TotalMicroseconds;
    private static readonly TimeSpan AfterError = TimeSpan.FromMilliseconds(10);

    public static async Task<RowResult> RunAsync(IBenchSystem system, Workload workload, int clients, int repeat,
        LoadSettings settings, Action<RowProgress>? progress, CancellationToken cancellationToken)
    {
        IBenchClient[] connections = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => system.ConnectAsync(i, cancellationToken)));
        try
        {
            var value = new byte[settings.ValueBytes];
            new Random(repeat).NextBytes(value);
            long begin = Stopwatch.GetTimestamp();
            long start = begin + (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency);
            long end = start + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency);
            var counters = new Counters();
            var histograms = new LongHistogram[clients];
            Task[] loops = new Task[clients];
            for (int i = 0; i < clients; i++)
            {
                histograms[i] = new LongHistogram(HighestMicros, 3);
                loops[i] = LoopAsync(connections[i], workload, new Random(HashCode.Combine(i, repeat, clients)), value, settings.Keys,
                    start, end, histograms[i], counters, cancellationToken);
            }
            (double server, double client) = await SampleCpuAsync(system, begin, start, end, counters, progress, cancellationToken);
            await Task.WhenAll(loops);

            var all = new LongHistogram(HighestMicros, 3);
            foreach (LongHistogram h in histograms) all.Add(h);
            double Ms(double percentile) => all.TotalCount == 0 ? double.NaN : all.GetValueAtPercentile(percentile) / 1000.0;
            return new RowResult(system.Name, workload, clients, repeat, counters.Ops, counters.Errors, settings.Duration.TotalSeconds,
                Ms(50), Ms(99), Ms(99.9), all.TotalCount == 0 ? double.NaN : all.GetMaxValue() / 1000.0,
                server, client, counters.FirstError);
        }
        finally
        {
            foreach (IBenchClient connection in connections) await connection.DisposeAsync();
        }
    }

    private sealed class Counters
    {
        public long Ops;
        public long Errors;
        public string? FirstError;
    }

    private static async Task LoopAsync(IBenchClient client, Workload workload, Random random, byte[] value, int keys,
        long start, long end, LongHistogram histogram, Counters counters, CancellationToken cancellationToken)
    {
        await Task.Yield();      // every client starts on its own, not inside the loop that creates them
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            if (t0 >= end || cancellationToken.IsCancellationRequested) return;
            string key = LoadSettings.Key(random.Next(keys));
            try
            {
                Task operation = workload switch
                {
                    Workload.Put => client.PutAsync(key, value, cancellationToken),
                    Workload.Get => client.GetAsync(key, serializable: false, cancellationToken),
                    _ => client.GetAsync(key, serializable: true, cancellationToken),
                };
                await operation.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (t0 >= start && Interlocked.Increment(ref counters.Errors) == 1)
                    counters.FirstError = $"{e.GetType().Name}: {e.Message}";
                await Task.Delay(AfterError, CancellationToken.None);       // a failing system is not hammered in a hot loop
                continue;
            }
            long t1 = Stopwatch.GetTimestamp();
            if (t0 < start || t1 > end) continue;
            histogram.RecordValue(Math.Max(1, (t1 - t0) * 1_000_000 / Stopwatch.Frequency));
            Interlocked.Increment(ref counters.Ops);
        }
    }

    /// <summary>Reports progress every half second, and reads CPU time at the window's edges.</summary>
    private static async Task<(double Server, double Client)> SampleCpuAsync(IBenchSystem system, long begin, long start, long end,
        Counters counters, Action<RowProgress>? progress, CancellationToken cancellationToken)
    {
        double serverAtStart = 0, clientAtStart = 0;
        bool started = false;
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            if (!started && now >= start)
            {
                serverAtStart = ProcessCpu.Seconds(system.ProcessIds);
                clientAtStart = ProcessCpu.OwnSeconds();
                started = true;
            }
            if (now >= end)
                return (ProcessCpu.Seconds(system.ProcessIds) - serverAtStart, ProcessCpu.OwnSeconds() - clientAtStart);
            progress?.Invoke(new RowProgress(started, Stopwatch.GetElapsedTime(started ? start : begin), Interlocked.Read(ref counters.Ops),
                Interlocked.Read(ref counters.Errors)));
            long next = started ? end : start;
            TimeSpan wait = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerMillisecond * 500,
                Math.Max(1, (next - now) * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            await Task.Delay(wait, cancellationToken);
        }
    }
}
