using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using KvActors.Node.Hosting;
using KvActors.Raft;
using KvActors.Raft.Ids;

namespace KvActors.Node.Replica;

/// <summary>
/// One shard replicated over several ActorSystems in this process, each on its own loopback port and its own SQLite
/// data directory, joined as one Akka.Cluster. For tests and the replica benchmark; a real deployment runs one
/// ActorSystem per node process. Node i (0-based) hosts replica i + 1.
/// </summary>
public sealed class InProcessShard : IAsyncDisposable
{
    private const string SystemName = "kvactors";
    private readonly string _root;
    private readonly string[] _overlays;
    private readonly ActorSystem?[] _systems;
    private readonly IActorRef?[] _replicas;
    private readonly Address?[] _addresses;

    private InProcessShard(string root, int nodes, string[] overlays)
    {
        _root = root;
        _overlays = overlays;
        _systems = new ActorSystem?[nodes];
        _replicas = new IActorRef?[nodes];
        _addresses = new Address?[nodes];
    }

    /// <summary>The shard number every replica here belongs to.</summary>
    public const int Shard = 0;

    /// <summary>How many nodes (and replicas).</summary>
    public int Count => _systems.Length;

    /// <summary>The replica actor on node <paramref name="node"/>; null while that node is stopped.</summary>
    public IActorRef? Replica(int node) => _replicas[node];

    /// <summary>The ActorSystem of node <paramref name="node"/>; null while it is stopped.</summary>
    public ActorSystem? System(int node) => _systems[node];

    /// <summary>The replica id node <paramref name="node"/> hosts.</summary>
    public static ReplicaId ReplicaIdOf(int node) => new((ulong)node + 1);

    /// <summary>Where node <paramref name="node"/> keeps its SQLite files.</summary>
    public string DataDirectory(int node) => Path.Combine(_root, $"node-{node}");

    /// <summary>
    /// Starts <paramref name="nodes"/> ActorSystems under <paramref name="root"/>, joins them into one cluster and
    /// starts the shard's replicas with all of them as the initial voters. <paramref name="overlays"/> are HOCON
    /// texts applied over the defaults (e.g. <c>test.conf</c>).
    /// </summary>
    public static async Task<InProcessShard> StartAsync(string root, int nodes, params string[] overlays)
    {
        var shard = new InProcessShard(root, nodes, overlays);
        for (int i = 0; i < nodes; i++) shard.StartSystem(i);
        Address seed = shard._addresses[0]!;
        foreach (ActorSystem? system in shard._systems) await Akka.Cluster.Cluster.Get(system!).JoinAsync(seed);
        for (int i = 0; i < nodes; i++) shard.StartReplica(i);
        return shard;
    }

    private void StartSystem(int node)
    {
        string dataDirectory = DataDirectory(node);
        SqliteFiles.Prepare(dataDirectory);
        Config config = ConfigurationFactory.ParseString("""
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp.hostname = 127.0.0.1
                akka.remote.dot-netty.tcp.port = 0
                akka.cluster.downing-provider-class = ""
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                """)
            .WithFallback(KvActorsConfig.ForSqlite(dataDirectory, _overlays));
        ActorSystem system = ActorSystem.Create(SystemName, config);
        _systems[node] = system;
        _addresses[node] = ((ExtendedActorSystem)system).Provider.DefaultAddress;
    }

    private void StartReplica(int node)
    {
        ActorSystem system = _systems[node]!;
        var settings = ReplicaSettings.From(system.Settings.Config);
        var membership = Membership.Of(Enumerable.Range(0, Count).Select(ReplicaIdOf).ToArray());
        var address = new ReplicaAddress(Shard, ReplicaIdOf(node));
        _replicas[node] = system.ActorOf(ReplicaActor.Props(address, settings, membership, Peers()), address.ActorName);
    }

    private ImmutableDictionary<ReplicaId, ActorPath> Peers()
    {
        var peers = ImmutableDictionary.CreateBuilder<ReplicaId, ActorPath>();
        for (int i = 0; i < Count; i++)
        {
            if (_addresses[i] is { } address)
                peers[ReplicaIdOf(i)] = new RootActorPath(address) / "user" / new ReplicaAddress(Shard, ReplicaIdOf(i)).ActorName;
        }
        return peers.ToImmutable();
    }

    /// <summary>Terminates node <paramref name="node"/>'s ActorSystem, as a crashed process would stop (its disk stays).</summary>
    public async Task StopNodeAsync(int node)
    {
        ActorSystem system = _systems[node] ?? throw new InvalidOperationException($"node {node} is not running");
        Address address = _addresses[node]!;
        _systems[node] = null;
        _replicas[node] = null;
        _addresses[node] = null;
        await system.Terminate();
        // No split-brain resolver in-process: mark it down by hand, so that the cluster converges and a restarted node
        // (a new address) can join. Raft does not care either way: membership only routes.
        if (Array.Find(_systems, s => s is not null) is { } survivor) Akka.Cluster.Cluster.Get(survivor).Down(address);
    }

    /// <summary>Starts node <paramref name="node"/> again on its data directory (a new port) and tells the others where it is.</summary>
    public async Task RestartNodeAsync(int node)
    {
        if (_systems[node] is not null) throw new InvalidOperationException($"node {node} is running");
        Address? seed = Array.Find(_addresses, a => a is not null);
        StartSystem(node);
        await Akka.Cluster.Cluster.Get(_systems[node]!).JoinAsync(seed ?? _addresses[node]!);
        StartReplica(node);
        var update = new UpdatePeers(Peers());
        for (int i = 0; i < Count; i++) _replicas[i]?.Tell(update);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (ActorSystem? system in _systems)
        {
            if (system is not null) await system.Terminate();
        }
    }
}
