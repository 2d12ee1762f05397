using KvActors.Bench.Etcd;
using KvActors.Bench.Load;

namespace KvActors.Bench.Compare;

/// <summary>What <c>compare</c> runs; the defaults are the reference runs' (issue: benchmark against etcd).</summary>
internal sealed record CompareSettings
{
    public IReadOnlyList<int> Clients { get; init; } = [1, 16, 64];
    public IReadOnlyList<Workload> Workloads { get; init; } = [Workload.Put, Workload.Get];
    public IReadOnlyList<string> Systems { get; init; } = ["kvactors", "etcd"];
    public LoadSettings Load { get; init; } = LoadSettings.Default;
    public int Repeats { get; init; } = 1;
    public EtcdRouting EtcdRouting { get; init; } = EtcdRouting.LeaderOnly;
    public int Shards { get; init; } = 16;
    public string? KvActorsConfig { get; init; }
    public string ResultsDirectory { get; init; } = "results";
    public string? DataDirectory { get; init; }
}
