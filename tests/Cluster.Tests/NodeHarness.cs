using Akka.Actor;
using KvActors.Node.Hosting;
using KvActors.Node.Placement;
using KvActors.Node.Replica;
using KvActors.Node.Topology;
using KvActors.Raft;
using KvActors.Tests.Shared;

namespace KvActors.Cluster.Tests;

/// <summary>
/// Real nodes (<see cref="KvNode"/>, what the <c>start</c> command runs) in ActorSystems of this process, each on its
/// own loopback port and data directory. Nodes start, stop and restart by index; a stopped node keeps its disk.
/// </summary>
public sealed class NodeHarness : IAsyncDisposable
{
    private readonly string _root;
    private readonly string[] _overlays;
    private readonly ActorSystem?[] _systems;
    private readonly KvNode?[] _nodes;

    public NodeHarness(string root, int nodes, int shards = 8, int replication = 3, params string[] overlays)
    {
        _root = root;
        _overlays = [.. overlays, KvActorsConfig.Hocon("test.conf")];
        _systems = new ActorSystem?[nodes];
        _nodes = new KvNode?[nodes];
        Shards = shards;
        Replication = replication;
        Endpoints = [.. Enumerable.Range(0, nodes).Select(_ => $"127.0.0.1:{FreePort()}")];
    }

    public int NodeCount => _systems.Length;
    public int Shards { get; }
    public int Replication { get; }
    public string[] Endpoints { get; }

    public IActorRef Gateway(int index) => Node(index).Gateway;
    public KvNode Node(int index) => _nodes[index] ?? throw new InvalidOperationException($"node {index} is not running");
    public ActorSystem System(int index) => _systems[index] ?? throw new InvalidOperationException($"node {index} is not running");
    public string DataDirectory(int index) => Path.Combine(_root, $"n{index + 1}");

    public NodeOptions Options(int index, int? shards = null, IReadOnlyList<string>? seeds = null) =>
        new($"n{index + 1}", "127.0.0.1", int.Parse(Endpoints[index].Split(':')[1]), seeds ?? Endpoints, DataDirectory(index), shards ?? Shards,
            Replication);

    /// <summary>Starts node <paramref name="index"/> on its data directory; its identity is decided later.</summary>
    public KvNode Start(int index, NodeOptions? options = null)
    {
        options ??= Options(index);
        ClusterIdentity? identity = KvNode.Check(options);
        ActorSystem system = ActorSystem.Create(NodePaths.SystemName, KvNode.Setup(options, identity, _overlays));
        _systems[index] = system;
        return _nodes[index] = KvNode.Start(system, options, identity);
    }

    public async Task<ClusterIdentity[]> StartAllAsync()
    {
        for (int i = 0; i < _systems.Length; i++) Start(i);
        return await Task.WhenAll(_nodes.Select(n => n!.Identity)).WaitAsync(TestCluster.Wait);
    }

    /// <summary>Terminates node <paramref name="index"/>'s ActorSystem, as a crashed process stops; its disk stays.</summary>
    public async Task StopAsync(int index)
    {
        ActorSystem system = System(index);
        _systems[index] = null;
        _nodes[index] = null;
        await system.Terminate();
    }

    /// <summary>Waits until every shard has a leader among the running nodes' replicas.</summary>
    public async Task AwaitLeadersAsync()
    {
        await TestCluster.AwaitAsync(async () =>
        {
            var led = new HashSet<int>();
            for (int i = 0; i < _systems.Length; i++)
            {
                if (_nodes[i] is not { Identity.IsCompletedSuccessfully: true } node) continue;
                foreach (int shard in node.Identity.Result.Hosted)
                {
                    if ((await ReplicaStatusAsync(i, shard))?.Raft.Role == Role.Leader) led.Add(shard);
                }
            }
            return led.Count == Shards;
        });
    }

    /// <summary>Node <paramref name="index"/>'s replica of <paramref name="shard"/> describes itself; null if it hosts none.</summary>
    public async Task<ReplicaStatus?> ReplicaStatusAsync(int index, int shard)
    {
        ClusterIdentity identity = await Node(index).Identity;
        if (!identity.Hosted.Contains(shard)) return null;
        var address = new ReplicaAddress(shard, new Raft.Ids.ReplicaId(identity.ReplicaId));
        ActorSelection replica = System(index).ActorSelection($"/user/{NodePaths.Replicas}/{address.ActorName}");
        return await replica.Ask<ReplicaStatus>(GetReplicaStatus.Instance, TimeSpan.FromSeconds(3));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ActorSystem? system in _systems)
        {
            if (system is not null) await system.Terminate();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A SQLite file may still be held for a moment; the temp folder is cleaned eventually.
        }
    }

    // Cluster.Tests draws from 26000–31999 (see TestPorts).
    private static int FreePort() => TestPorts.Next(26_000, 6_000);
}
