using KvActors.Bench;

// Dispatches on the mode in args[0]. The load generator (KvActors against etcd) is not written yet: until it is,
// only the measurements below exist, and anything else fails rather than report numbers it did not measure.
const string Usage = "usage: kvactors-bench ordered-map | replicas [--clients 1,16,64] [--duration SECONDS] [--warmup SECONDS] [--hocon TEXT]";

switch (args.Length > 0 ? args[0] : "")
{
    case "ordered-map":
        OrderedMapBenchmark.Run(Console.Out);
        return 0;
    case "replicas":
        return await ReplicaBenchmark.RunAsync(args, Console.Out);
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
