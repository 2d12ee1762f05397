using System.Globalization;
using System.Text;
using KvActors.Bench.Load;

namespace KvActors.Bench.Compare;

/// <summary>
/// The comparison as an SVG image: throughput against clients on the left, p99 latency against clients on the right,
/// one line per system and workload (KvActors blue, etcd orange; a dash pattern per workload). Written by hand so the
/// bench needs no native drawing library.
/// </summary>
internal static class ComparePlot
{
    private const int PanelWidth = 460, PanelHeight = 320, Left = 70, Top = 40, Bottom = 50, Right = 20;
    private static readonly string[] Dashes = ["", "6,4", "2,3"];

    public static string Svg(IReadOnlyList<CompareRow> rows, string title)
    {
        int[] clients = [.. rows.Select(r => r.Clients).Distinct().Order()];
        Workload[] workloads = [.. rows.Select(r => r.Workload).Distinct()];
        var svg = new StringBuilder();
        int width = 2 * PanelWidth, height = PanelHeight + 70;
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">""").AppendLine();
        svg.AppendLine($"""<rect width="{width}" height="{height}" fill="white"/>""");
        svg.AppendLine($"""<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{Escape(title)}</text>""");
        Panel(svg, 0, "throughput (ops/s)", rows, clients, workloads, static r => r.OpsPerSecond);
        Panel(svg, PanelWidth, "p99 latency (ms)", rows, clients, workloads, static r => r.P99Ms);
        Legend(svg, workloads, PanelHeight + 30);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int x0, string label, IReadOnlyList<CompareRow> rows, int[] clients,
        Workload[] workloads, Func<RowResult, double> measure)
    {
        double max = rows.SelectMany(r => new[] { r.KvActors, r.Etcd }).OfType<RowResult>().Select(measure)
            .Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max();
        max = NiceCeiling(max);
        int plotW = PanelWidth - Left - Right, plotH = PanelHeight - Top - Bottom;
        double X(int c) => x0 + Left + (clients.Length == 1 ? plotW / 2.0 : plotW * Math.Log(c / (double)clients[0]) / Math.Log(clients[^1] / (double)clients[0]));
        double Y(double v) => Top + plotH * (1 - v / max);

        svg.AppendLine(I($"""<rect x="{x0 + Left}" y="{Top}" width="{plotW}" height="{plotH}" fill="none" stroke="#888"/>"""));
        for (int i = 0; i <= 4; i++)
        {
            double v = max * i / 4;
            svg.AppendLine(I($"""<line x1="{x0 + Left}" x2="{x0 + Left + plotW}" y1="{Y(v):F1}" y2="{Y(v):F1}" stroke="#eee"/>"""));
            svg.AppendLine(I($"""<text x="{x0 + Left - 6}" y="{Y(v) + 4:F1}" text-anchor="end">{Number(v)}</text>"""));
        }
        foreach (int c in clients)
            svg.AppendLine(I($"""<text x="{X(c):F1}" y="{Top + plotH + 18}" text-anchor="middle">{c}</text>"""));
        svg.AppendLine(I($"""<text x="{x0 + Left + plotW / 2}" y="{Top + plotH + 36}" text-anchor="middle">clients (closed loop)</text>"""));
        svg.AppendLine(I($"""<text x="{x0 + 16}" y="{Top + plotH / 2}" text-anchor="middle" transform="rotate(-90 {x0 + 16} {Top + plotH / 2})">{label}</text>"""));

        for (int w = 0; w < workloads.Length; w++)
        {
            foreach ((string color, Func<CompareRow, RowResult?> pick) in Series)
            {
                var points = rows.Where(r => r.Workload == workloads[w]).Select(r => (r.Clients, Result: pick(r)))
                    .Where(p => p.Result is not null && !double.IsNaN(measure(p.Result))).OrderBy(p => p.Clients)
                    .Select(p => I($"{X(p.Clients):F1},{Y(measure(p.Result!)):F1}")).ToArray();
                if (points.Length == 0) continue;
                svg.AppendLine($"""<polyline fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{Dashes[w % Dashes.Length]}" points="{string.Join(' ', points)}"/>""");
                foreach (string point in points)
                {
                    string[] xy = point.Split(',');
                    svg.AppendLine($"""<circle cx="{xy[0]}" cy="{xy[1]}" r="3" fill="{color}"/>""");
                }
            }
        }
    }

    private static readonly (string Color, Func<CompareRow, RowResult?> Pick)[] Series =
        [("#1f77b4", static r => r.KvActors), ("#ff7f0e", static r => r.Etcd)];

    private static void Legend(StringBuilder svg, Workload[] workloads, int y)
    {
        int x = Left;
        foreach ((string system, string color) in new[] { ("KvActors", Series[0].Color), ("etcd", Series[1].Color) })
        {
            for (int w = 0; w < workloads.Length; w++)
            {
                svg.AppendLine(I($"""<line x1="{x}" x2="{x + 30}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="2" stroke-dasharray="{Dashes[w % Dashes.Length]}"/>"""));
                svg.AppendLine(I($"""<text x="{x + 36}" y="{y + 4}">{system} {workloads[w].Name()}</text>"""));
                x += 170;
            }
        }
    }

    private static double NiceCeiling(double v)
    {
        if (v <= 0) return 1;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (double step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= v) return step * magnitude;
        }
        return 10 * magnitude;
    }

    private static string Number(double v) => v >= 1000 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => System.Security.SecurityElement.Escape(text) ?? "";
}
