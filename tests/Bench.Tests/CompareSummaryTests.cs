using KvActors.Bench.Compare;
using KvActors.Bench.Load;

namespace KvActors.Bench.Tests;

/// <summary>What <c>compare</c> prints from its rows: medians over repeats, ratios, the table and the last line.</summary>
public sealed class CompareSummaryTests
{
    [Fact]
    public void The_last_line_has_the_exact_form_scripts_read_with_ratios_of_kvactors_over_etcd()
    {
        RowResult[] rows =
        [
            Row("kvactors", Workload.Put, 64, opsPerSecond: 9_000, p50: 5), Row("etcd", Workload.Put, 64, opsPerSecond: 4_000, p50: 8),
            Row("kvactors", Workload.Get, 64, opsPerSecond: 10_000, p50: 2), Row("etcd", Workload.Get, 64, opsPerSecond: 5_000, p50: 3),
            Row("kvactors", Workload.Put, 1, opsPerSecond: 500, p50: 1.5), Row("etcd", Workload.Put, 1, opsPerSecond: 400, p50: 2),
        ];

        IReadOnlyList<CompareRow> table = CompareSummary.Rows(rows, [Workload.Put, Workload.Get], [1, 64]);

        CompareSummary.LastLine(table).Should().Be("compare: put@64 ratio 2.25, get@64 ratio 2.00, put@1 p50 ratio 0.75");
    }

    [Fact]
    public void A_row_not_measured_for_both_systems_reads_n_a()
    {
        RowResult[] rows = [Row("kvactors", Workload.Put, 64, opsPerSecond: 9_000, p50: 5)];

        IReadOnlyList<CompareRow> table = CompareSummary.Rows(rows, [Workload.Put], [64]);

        CompareSummary.LastLine(table).Should().Be("compare: put@64 ratio n/a, get@64 ratio n/a, put@1 p50 ratio n/a");
        CompareSummary.Table(table).Last().Should().StartWith("put@64").And.EndWith("-");
    }

    [Fact]
    public void Each_row_shows_the_repeat_with_the_median_throughput()
    {
        RowResult[] rows =
        [
            Row("etcd", Workload.Put, 16, opsPerSecond: 3_000, p50: 1, repeat: 1),
            Row("etcd", Workload.Put, 16, opsPerSecond: 1_000, p50: 9, repeat: 2),
            Row("etcd", Workload.Put, 16, opsPerSecond: 2_000, p50: 4, repeat: 3),
        ];

        CompareRow row = CompareSummary.Rows(rows, [Workload.Put], [16]).Single();

        row.Etcd!.Repeat.Should().Be(3);
        row.KvActors.Should().BeNull();
        row.ThroughputRatio.Should().BeNull();
    }

    [Fact]
    public void The_table_has_one_aligned_line_per_row_under_a_header()
    {
        RowResult[] rows = [Row("kvactors", Workload.Get, 1, 2_000, 0.5), Row("etcd", Workload.Get, 1, 1_000, 1)];

        string[] lines = [.. CompareSummary.Table(CompareSummary.Rows(rows, [Workload.Get], [1]))];

        lines.Should().HaveCount(2);
        lines[0].Should().StartWith("row").And.Contain("kvactors ops/s").And.Contain("etcd ops/s").And.Contain("ops/s ratio");
        lines[1].Should().StartWith("get@1").And.Contain("2,000").And.Contain("1,000").And.Contain("2.00").And.Contain("0.50");
    }

    [Fact]
    public void Workload_lists_parse_by_name_and_refuse_unknown_names()
    {
        Workloads.ParseList("put, get-serializable").Should().Equal(Workload.Put, Workload.GetSerializable);
        FluentActions.Invoking(() => Workloads.ParseList("put,scan")).Should().Throw<FormatException>().WithMessage("*scan*known: put, get, get-serializable*");
    }

    /// <summary>A row measured over one second, so that ops = ops/s.</summary>
    private static RowResult Row(string system, Workload workload, int clients, double opsPerSecond, double p50, int repeat = 1) =>
        new(system, workload, clients, repeat, (long)opsPerSecond, Errors: 0, Seconds: 1, P50Ms: p50, P99Ms: p50 * 3, P999Ms: p50 * 5,
            MaxMs: p50 * 10, ServerCpuSeconds: 1, ClientCpuSeconds: 0.5, FirstError: null);
}
