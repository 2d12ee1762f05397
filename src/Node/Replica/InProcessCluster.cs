using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using KvActors.Node.Hosting;
using KvActors.Node.Routing;
using KvActors.Raft;
using KvActors.Raft.Ids;

namespace KvActors.Node.Replica;

/// <summary>
/// Several shards replicated over several ActorSystems in this process, each on its own loopback port and its own
/// SQLite data directory, joined as one Akka.Cluster, with a <see cref="Gateway"/> on every node. Every node hosts one
/// replica of every shard: node i (0-based) hosts replica i + 1 of each. For tests, until the node host and placement
/// exist; a real deployment runs one ActorSystem per node process.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private const string SystemName = "kvactors";
    private const string GatewayName = "gateway";
    private readonly string _root;
    private readonly string[] _overlays;
    private readonly int _shards;
    private readonly ActorSystem?[] _systems;
    private readonly IActorRef?[] _gateways;
    private readonly IActorRef?[][] _replicas;          // [node][shard]
    private readonly Address?[] _addresses;

    private InProcessCluster(string root, int nodes, int shards, string[] overlays)
    {
        _root = root;
        _overlays = overlays;
        _shards = shards;
        _systems = new ActorSystem?[nodes];
        _gateways = new IActorRef?[nodes];
        _replicas = new IActorRef?[nodes][];
        for (int i = 0; i < nodes; i++) _replicas[i] = new IActorRef?[shards];
        _addresses = new Address?[nodes];
    }

    /// <summary>How many nodes (and replicas per shard).</summary>
    public int NodeCount => _systems.Length;

    /// <summary>How many shards.</summary>
    public int ShardCount => _shards;

    /// <summary>The Gateway on node <paramref name="node"/>; null while that node is stopped.</summary>
    public IActorRef? Gateway(int node) => _gateways[node];

    /// <summary>Node <paramref name="node"/>'s replica of shard <paramref name="shard"/>; null while that node is stopped.</summary>
    public IActorRef? Replica(int node, int shard) => _replicas[node][shard];

    /// <summary>The ActorSystem of node <paramref name="node"/>; null while it is stopped.</summary>
    public ActorSystem? System(int node) => _systems[node];

    /// <summary>The replica id node <paramref name="node"/> hosts in every shard.</summary>
    public static ReplicaId ReplicaIdOf(int node) => new((ulong)node + 1);

    /// <summary>The node that hosts replica <paramref name="replica"/> of every shard.</summary>
    public static int NodeOf(ReplicaId replica) => (int)replica.Value - 1;

    /// <summary>Where node <paramref name="node"/> keeps its SQLite files.</summary>
    public string DataDirectory(int node) => Path.Combine(_root, $"node-{node}");

    /// <summary>
    /// Starts <paramref name="nodes"/> ActorSystems under <paramref name="root"/>, joins them into one cluster, starts
    /// <paramref name="shards"/> shards with one replica per node (all of them the initial voters) and a Gateway per
    /// node. <paramref name="overlays"/> are HOCON texts applied over the defaults (e.g. <c>test.conf</c>).
    /// </summary>
    public static async Task<InProcessCluster> StartAsync(string root, int nodes, int shards, params string[] overlays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var cluster = new InProcessCluster(root, nodes, shards, overlays);
        for (int i = 0; i < nodes; i++) cluster.StartSystem(i);
        Address seed = cluster._addresses[0]!;
        foreach (ActorSystem? system in cluster._systems) await Akka.Cluster.Cluster.Get(system!).JoinAsync(seed);
        for (int i = 0; i < nodes; i++) cluster.StartNode(i);
        return cluster;
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
        ActorSystem system = ActorSystem.Create(SystemName, KvActorsConfig.SqliteSetup(dataDirectory, config));
        _systems[node] = system;
        _addresses[node] = ((ExtendedActorSystem)system).Provider.DefaultAddress;
    }

    private void StartNode(int node)
    {
        ActorSystem system = _systems[node]!;
        var settings = ReplicaSettings.From(system.Settings.Config);
        var voters = new ReplicaId[NodeCount];
        for (int i = 0; i < voters.Length; i++) voters[i] = ReplicaIdOf(i);
        Membership membership = Membership.Of(voters);
        for (int shard = 0; shard < _shards; shard++)
        {
            var address = new ReplicaAddress(shard, ReplicaIdOf(node));
            _replicas[node][shard] = system.ActorOf(ReplicaActor.Props(address, settings, membership, Peers(shard)), address.ActorName);
        }
        _gateways[node] = system.ActorOf(Routing.Gateway.Props(GatewaySettings.From(system.Settings.Config), Directory()), GatewayName);
    }

    private ImmutableDictionary<ReplicaId, ActorPath> Peers(int shard)
    {
        var peers = ImmutableDictionary.CreateBuilder<ReplicaId, ActorPath>();
        for (int i = 0; i < NodeCount; i++)
        {
            if (_addresses[i] is { } address)
                peers[ReplicaIdOf(i)] = new RootActorPath(address) / "user" / new ReplicaAddress(shard, ReplicaIdOf(i)).ActorName;
        }
        return peers.ToImmutable();
    }

    /// <summary>Where every running replica is now: what placement will produce.</summary>
    public ShardDirectory Directory()
    {
        var shards = new IReadOnlyDictionary<ReplicaId, ActorPath>[_shards];
        for (int shard = 0; shard < _shards; shard++) shards[shard] = Peers(shard);
        return new ShardDirectory(shards);
    }

    /// <summary>Terminates node <paramref name="node"/>'s ActorSystem, as a crashed process would stop (its disk stays).
    /// The other Gateways keep it in their directory, as they would until placement says otherwise.</summary>
    public async Task StopNodeAsync(int node)
    {
        ActorSystem system = _systems[node] ?? throw new InvalidOperationException($"node {node} is not running");
        Address address = _addresses[node]!;
        _systems[node] = null;
        _gateways[node] = null;
        Array.Clear(_replicas[node]);
        _addresses[node] = null;
        await system.Terminate();
        // No split-brain resolver in-process: mark it down by hand so that the cluster converges. Raft does not care.
        if (Array.Find(_systems, s => s is not null) is { } survivor) Akka.Cluster.Cluster.Get(survivor).Down(address);
    }

    /// <summary>Starts node <paramref name="node"/> again on its data directory (a new port) and tells the other
    /// replicas and Gateways where it is.</summary>
    public async Task RestartNodeAsync(int node)
    {
        if (_systems[node] is not null) throw new InvalidOperationException($"node {node} is running");
        Address? seed = Array.Find(_addresses, a => a is not null);
        StartSystem(node);
        await Akka.Cluster.Cluster.Get(_systems[node]!).JoinAsync(seed ?? _addresses[node]!);
        StartNode(node);
        var directory = new UpdateShardDirectory(Directory());
        for (int shard = 0; shard < _shards; shard++)
        {
            var update = new UpdatePeers(Peers(shard));
            for (int i = 0; i < NodeCount; i++) _replicas[i][shard]?.Tell(update);
        }
        for (int i = 0; i < NodeCount; i++) _gateways[i]?.Tell(directory);
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
