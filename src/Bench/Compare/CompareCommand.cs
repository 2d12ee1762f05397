using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using KvActors.Bench.Etcd;
using KvActors.Bench.KvActors;
using KvActors.Bench.Load;

namespace KvActors.Bench.Compare;

/// <summary>
/// <c>compare</c>: the same closed-loop workloads against a 3-node KvActors cluster and a 3-member etcd cluster on this
/// machine, one system at a time (an idle cluster still burns CPU that would be charged to the other), alternating
/// system by system in each repeat. Prints each row as it finishes, then the side-by-side table and, last, the line
/// <c>compare: put@64 ratio X, get@64 ratio Y, put@1 p50 ratio Z</c>; writes <c>results.json</c> and <c>plot.svg</c>
/// under the results folder.
/// </summary>
internal static class CompareCommand
{
    public static async Task<int> RunAsync(CompareSettings options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        bool ownData = options.DataDirectory is null;
        string data = Path.GetFullPath(options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"kvactors-compare-{stamp}"));
        string results = Path.GetFullPath(Path.Combine(options.ResultsDirectory, $"compare-{stamp}"));
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(results);
        var display = new LiveDisplay(output);
        var systems = new List<IBenchSystem>();
        foreach (string name in options.Systems)
        {
            systems.Add(name == "kvactors"
                ? new KvActorsSystem(data, 3, options.Shards, 3, options.KvActorsConfig, display.Writer)
                : new EtcdSystem(data, options.EtcdRouting, display.Writer));
        }
        LoadSettings load = options.Load;
        output.WriteLine($"compare: {string.Join(", ", options.Workloads.Select(w => w.Name()))} at {string.Join(",", options.Clients)} clients; " +
            $"{load.Keys:N0} keys, {load.ValueBytes}-byte values, warm-up {load.Warmup.TotalSeconds:0.#} s, measured {load.Duration.TotalSeconds:0.#} s, " +
            $"{options.Repeats} repeat(s); data under {data}");
        output.WriteLine($"compare: machine {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");

        var rows = new List<RowResult>();
        var preloaded = new HashSet<string>();
        try
        {
            for (int repeat = 1; repeat <= options.Repeats; repeat++)
            {
                foreach (IBenchSystem system in systems)
                {
                    await system.StartAsync(cancellationToken);
                    try
                    {
                        if (preloaded.Add(system.Name))
                        {
                            double rate = await Preload.RunAsync(system, load, cancellationToken);
                            display.Writer.WriteLine($"{system.Name}: preloaded {load.Keys:N0} keys at {rate:N0} keys/s");
                        }
                        foreach (Workload workload in options.Workloads)
                        {
                            foreach (int clients in options.Clients)
                            {
                                string title = $"{system.Name} {workload.Name()}@{clients} (repeat {repeat})";
                                RowResult row = await display.RunAsync(title, progress =>
                                    ClosedLoop.RunAsync(system, workload, clients, repeat, load, progress, cancellationToken));
                                rows.Add(row);
                                display.Writer.WriteLine(Describe(title, row));
                            }
                        }
                    }
                    finally
                    {
                        await system.StopAsync();
                    }
                }
            }
        }
        catch (BenchSetupException e)
        {
            await error.WriteLineAsync($"compare: {e.Message}");
            return 1;
        }
        finally
        {
            foreach (IBenchSystem system in systems) await system.DisposeAsync();
            if (ownData) TryDelete(data);
        }

        IReadOnlyList<CompareRow> table = CompareSummary.Rows(rows, options.Workloads, options.Clients);
        output.WriteLine();
        foreach (string line in CompareSummary.Table(table)) output.WriteLine(line);
        output.WriteLine();
        string last = CompareSummary.LastLine(table);
        string title2 = $"KvActors vs etcd, {Environment.ProcessorCount} cores, {stamp} UTC";
        await File.WriteAllTextAsync(Path.Combine(results, "plot.svg"), ComparePlot.Svg(table, title2), CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(results, "results.json"),
            Json(options, systems, rows, table, last, stamp), CancellationToken.None);
        output.WriteLine($"compare: results in {results} (results.json, plot.svg)");
        output.WriteLine(last);
        return 0;
    }

    private static string Describe(string title, RowResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{title}: {r.OpsPerSecond:N0} ops/s, p50 {r.P50Ms:F2} ms, p99 {r.P99Ms:F2} ms, p999 {r.P999Ms:F2} ms, max {r.MaxMs:F1} ms, " +
        $"errors {r.Errors}, server cpu {r.ServerCpuSeconds:F1} s ({r.ServerCpuPer1000Ops:F3} s per 1k ops), client cpu {r.ClientCpuSeconds:F1} s{(r.FirstError is null ? "" : "; first error: " + r.FirstError)}");

    private static string Json(CompareSettings options, List<IBenchSystem> systems, List<RowResult> rows, IReadOnlyList<CompareRow> table,
        string last, string stamp)
    {
        static object? Row(RowResult? r) => r is null ? null : new
        {
            system = r.System, workload = r.Workload.Name(), clients = r.Clients, repeat = r.Repeat,
            ops = r.Ops, errors = r.Errors, seconds = r.Seconds, opsPerSecond = r.OpsPerSecond,
            p50Ms = r.P50Ms, p99Ms = r.P99Ms, p999Ms = r.P999Ms, maxMs = r.MaxMs,
            serverCpuSeconds = r.ServerCpuSeconds, serverCpuSecondsPer1000Ops = r.ServerCpuPer1000Ops, clientCpuSeconds = r.ClientCpuSeconds,
            firstError = r.FirstError,
        };
        var document = new
        {
            date = stamp,
            machine = new { cores = Environment.ProcessorCount, os = RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString() },
            settings = new
            {
                clients = options.Clients, workloads = options.Workloads.Select(w => w.Name()), systems = options.Systems,
                keys = options.Load.Keys, valueBytes = options.Load.ValueBytes, warmupSeconds = options.Load.Warmup.TotalSeconds,
                durationSeconds = options.Load.Duration.TotalSeconds, repeats = options.Repeats,
                etcdRouting = options.EtcdRouting == EtcdRouting.LeaderOnly ? "leader" : "round-robin", shards = options.Shards,
            },
            systems = systems.Select(s => new { name = s.Name, description = s.Description }),
            runs = rows.Select(Row),
            table = table.Select(t => new
            {
                row = t.Label, kvactors = Row(t.KvActors), etcd = Row(t.Etcd),
                throughputRatio = t.ThroughputRatio, p50Ratio = t.P50Ratio, p99Ratio = t.P99Ratio,
            }),
            summary = last,
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up with the temp folder.
        }
    }
}
