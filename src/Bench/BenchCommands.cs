using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KvActors.Bench.Compare;
using KvActors.Bench.Etcd;
using KvActors.Bench.Load;

namespace KvActors.Bench;

/// <summary>The command lines of the bench's load-generator modes (System.CommandLine).</summary>
internal static class BenchCommands
{
    /// <summary><c>compare</c>: parses its options and runs it; returns the exit code (0 done, 1 a system could not run, 2 usage).</summary>
    public static async Task<int> CompareAsync(string[] args, TextWriter output, TextWriter error)
    {
        var defaults = new CompareSettings();
        var clients = new Option<string>("--clients") { Description = "Closed-loop client counts, a list", DefaultValueFactory = _ => "1,16,64" };
        var duration = new Option<double>("--duration") { Description = "Measured seconds per row", DefaultValueFactory = _ => defaults.Load.Duration.TotalSeconds };
        var warmup = new Option<double>("--warmup") { Description = "Unmeasured seconds before each row", DefaultValueFactory = _ => defaults.Load.Warmup.TotalSeconds };
        var workloads = new Option<string>("--workloads") { Description = "put, get (linearizable), get-serializable", DefaultValueFactory = _ => "put,get" };
        var systems = new Option<string>("--systems") { Description = "kvactors, etcd", DefaultValueFactory = _ => "kvactors,etcd" };
        var etcdRouting = new Option<string>("--etcd-routing")
        {
            Description = "leader (every etcd client talks to the leader, etcd's best case) or round-robin (client i to member i mod 3)",
            DefaultValueFactory = _ => "leader",
        };
        etcdRouting.AcceptOnlyFromAmong("leader", "round-robin");
        var keys = new Option<int>("--keys") { Description = "Keys preloaded and picked uniformly", DefaultValueFactory = _ => defaults.Load.Keys };
        var valueBytes = new Option<int>("--value-bytes") { Description = "Bytes per value", DefaultValueFactory = _ => defaults.Load.ValueBytes };
        var repeats = new Option<int>("--repeats") { Description = "Rounds of every system; the table shows each row's median", DefaultValueFactory = _ => 1 };
        var shards = new Option<int>("--shards") { Description = "KvActors shards", DefaultValueFactory = _ => defaults.Shards };
        var kvConfig = new Option<string?>("--kvactors-config") { Description = "A HOCON file every KvActors node takes over its defaults" };
        var results = new Option<string>("--results") { Description = "Folder for results.json and plot.svg (in a compare-<time> subfolder)", DefaultValueFactory = _ => "results" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Keep the clusters' data here (default: a temporary folder, deleted afterwards)" };

        var command = new RootCommand("compare: KvActors against etcd with the same closed-loop workloads on this machine")
        {
            clients, duration, warmup, workloads, systems, etcdRouting, keys, valueBytes, repeats, shards, kvConfig, results, dataDir,
        };
        command.SetAction(async (result, cancel) =>
        {
            CompareSettings options;
            try
            {
                options = new CompareSettings
                {
                    Clients = ParseClients(result.GetValue(clients)!),
                    Workloads = Workloads.ParseList(result.GetValue(workloads)!),
                    Systems = ParseSystems(result.GetValue(systems)!),
                    Load = new LoadSettings(Positive(result.GetValue(keys), "--keys"), Positive(result.GetValue(valueBytes), "--value-bytes"),
                        TimeSpan.FromSeconds(NotNegative(result.GetValue(warmup), "--warmup")), TimeSpan.FromSeconds(Positive(result.GetValue(duration), "--duration"))),
                    Repeats = Positive(result.GetValue(repeats), "--repeats"),
                    EtcdRouting = result.GetValue(etcdRouting) == "round-robin" ? EtcdRouting.RoundRobin : EtcdRouting.LeaderOnly,
                    Shards = Positive(result.GetValue(shards), "--shards"),
                    KvActorsConfig = result.GetValue(kvConfig) is { } file ? Path.GetFullPath(file) : null,
                    ResultsDirectory = result.GetValue(results)!,
                    DataDirectory = result.GetValue(dataDir),
                };
            }
            catch (FormatException e)
            {
                await error.WriteLineAsync($"compare: {e.Message}");
                return 2;
            }
            return await CompareCommand.RunAsync(options, output, error, cancel);
        });
        ParseResult parsed = command.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (ParseError problem in parsed.Errors) await error.WriteLineAsync($"compare: {problem.Message}");
            return 2;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }

    private static List<int> ParseClients(string text)
    {
        var list = new List<int>();
        foreach (string item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new FormatException($"--clients: '{item}' is not a positive whole number");
            list.Add(n);
        }
        if (list.Count == 0) throw new FormatException("--clients names no client count");
        return list;
    }

    private static List<string> ParseSystems(string text)
    {
        var list = new List<string>();
        foreach (string item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item is not ("kvactors" or "etcd")) throw new FormatException($"--systems: unknown system '{item}'; known: kvactors, etcd");
            if (!list.Contains(item)) list.Add(item);
        }
        if (list.Count == 0) throw new FormatException("--systems names no system");
        return list;
    }

    private static T Positive<T>(T value, string name) where T : System.Numerics.INumber<T> =>
        value > T.Zero ? value : throw new FormatException($"{name} must be more than 0");

    private static double NotNegative(double value, string name) =>
        value >= 0 ? value : throw new FormatException($"{name} must not be negative");
}
