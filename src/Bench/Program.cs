using KvActors.Bench;

// Dispatches on the mode in args[0]: the comparison against etcd, or one of the focused measurements.
const string Usage = """
    usage: kvactors-bench compare [options]        KvActors against etcd, same workloads, same machine (compare --help)
           kvactors-bench replicas [--clients 1,16,64] [--duration SECONDS] [--warmup SECONDS] [--shards N] [--hocon TEXT]
           kvactors-bench ordered-map
    """;

switch (args.Length > 0 ? args[0] : "")
{
    case "compare":
        return await BenchCommands.CompareAsync(args[1..], Console.Out, Console.Error);
    case "ordered-map":
        OrderedMapBenchmark.Run(Console.Out);
        return 0;
    case "replicas":
        return await ReplicaBenchmark.RunAsync(args, Console.Out);
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
