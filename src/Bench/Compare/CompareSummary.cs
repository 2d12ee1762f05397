using System.Globalization;
using KvActors.Bench.Load;

namespace KvActors.Bench.Compare;

/// <summary>One row of the side-by-side table: a workload at a client count, the median repeat of each system.</summary>
internal sealed record CompareRow(Workload Workload, int Clients, RowResult? KvActors, RowResult? Etcd)
{
    public string Label => $"{Workload.Name()}@{Clients}";

    /// <summary>KvActors' throughput over etcd's: above 1 is better.</summary>
    public double? ThroughputRatio => KvActors is { } k && Etcd is { } e && e.OpsPerSecond > 0 ? k.OpsPerSecond / e.OpsPerSecond : null;

    /// <summary>KvActors' median latency over etcd's: below 1 is better.</summary>
    public double? P50Ratio => KvActors is { } k && Etcd is { } e && e.P50Ms > 0 ? k.P50Ms / e.P50Ms : null;

    /// <summary>KvActors' p99 latency over etcd's: below 1 is better.</summary>
    public double? P99Ratio => KvActors is { } k && Etcd is { } e && e.P99Ms > 0 ? k.P99Ms / e.P99Ms : null;
}

/// <summary>The rows of a comparison, and the report's table and last line.</summary>
internal static class CompareSummary
{
    /// <summary>One row per (workload, clients), each system's repeat with the median throughput.</summary>
    public static IReadOnlyList<CompareRow> Rows(IReadOnlyList<RowResult> results, IReadOnlyList<Workload> workloads, IReadOnlyList<int> clients)
    {
        var rows = new List<CompareRow>();
        foreach (Workload workload in workloads)
        {
            foreach (int count in clients)
                rows.Add(new CompareRow(workload, count, Median(results, "kvactors", workload, count), Median(results, "etcd", workload, count)));
        }
        return rows;
    }

    private static RowResult? Median(IReadOnlyList<RowResult> results, string system, Workload workload, int clients)
    {
        RowResult[] runs = [.. results.Where(r => r.System == system && r.Workload == workload && r.Clients == clients).OrderBy(r => r.OpsPerSecond)];
        return runs.Length == 0 ? null : runs[(runs.Length - 1) / 2];
    }

    /// <summary>The side-by-side table, aligned for a terminal and for a file.</summary>
    public static IEnumerable<string> Table(IReadOnlyList<CompareRow> rows)
    {
        string[] header =
        [
            "row", "kvactors ops/s", "p50 ms", "p99 ms", "p999 ms", "errors", "cpu-s/1k ops",
            "etcd ops/s", "p50 ms", "p99 ms", "p999 ms", "errors", "cpu-s/1k ops",
            "ops/s ratio", "p50 ratio", "p99 ratio",
        ];
        var lines = new List<string[]> { header };
        foreach (CompareRow row in rows)
        {
            lines.Add([row.Label, .. Cells(row.KvActors), .. Cells(row.Etcd), Ratio(row.ThroughputRatio), Ratio(row.P50Ratio), Ratio(row.P99Ratio)]);
        }
        int[] widths = [.. Enumerable.Range(0, header.Length).Select(c => lines.Max(l => l[c].Length))];
        foreach (string[] line in lines)
            yield return string.Join("  ", line.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd();
    }

    private static string[] Cells(RowResult? r) => r is null
        ? ["-", "-", "-", "-", "-", "-"]
        : [F(r.OpsPerSecond, "N0"), F(r.P50Ms, "F2"), F(r.P99Ms, "F2"), F(r.P999Ms, "F2"), F(r.Errors, "N0"), F(r.ServerCpuPer1000Ops, "F3")];

    private static string Ratio(double? ratio) => ratio is { } x ? F(x, "F2") : "-";

    private static string F(double x, string format) => double.IsNaN(x) ? "-" : x.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>
    /// The last line, exactly <c>compare: put@64 ratio X, get@64 ratio Y, put@1 p50 ratio Z</c> (KvActors over etcd, two
    /// decimals; <c>n/a</c> where a row was not measured for both systems).
    /// </summary>
    public static string LastLine(IReadOnlyList<CompareRow> rows)
    {
        double? Find(Workload w, int clients, Func<CompareRow, double?> ratio) =>
            rows.FirstOrDefault(r => r.Workload == w && r.Clients == clients) is { } row ? ratio(row) : null;
        string R(double? x) => x is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "n/a";
        return $"compare: put@64 ratio {R(Find(Workload.Put, 64, r => r.ThroughputRatio))}, " +
               $"get@64 ratio {R(Find(Workload.Get, 64, r => r.ThroughputRatio))}, " +
               $"put@1 p50 ratio {R(Find(Workload.Put, 1, r => r.P50Ratio))}";
    }
}
