using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster.Tools.Client;
using Akka.Configuration;
using KvActors.Node.Management;
using KvActors.Node.Placement;
using KvActors.Node.Replica;
using KvActors.Node.Routing;
using KvActors.Node.Topology;

namespace KvActors.Node.Hosting;

/// <summary>
/// One KvActors node in one ActorSystem: its directory, formation service, replica host, shard managers (Cluster
/// Sharding), status service and Gateway (registered with the ClusterClient receptionist), in their well-known places
/// (<see cref="NodePaths"/>). The <c>start</c> command
/// runs exactly this, and so do the multi-node tests.
/// </summary>
public sealed class KvNode
{
    private KvNode(IActorRef gateway, Task<ClusterIdentity> identity)
    {
        Gateway = gateway;
        Identity = identity;
    }

    /// <summary>The node's Gateway (<c>/user/gateway</c>).</summary>
    public IActorRef Gateway { get; }

    /// <summary>
    /// Completes when the node knows who it is and has started its replicas; faults with a
    /// <see cref="NodeStartException"/> when it refuses to start (a conflicting shard count, unreachable seeds).
    /// </summary>
    public Task<ClusterIdentity> Identity { get; }

    /// <summary>
    /// The configuration of the ActorSystem for <paramref name="options"/>: its endpoint and seeds, then
    /// <paramref name="overlays"/> (HOCON text, earlier wins), then the node defaults and SQLite in its data directory.
    /// <paramref name="identity"/> is what <see cref="Check"/> returned: a node that was a member before joins differently.
    /// </summary>
    public static Config Config(NodeOptions options, ClusterIdentity? identity, params string[] overlays) =>
        options.AkkaConfig(memberBefore: identity is not null).WithFallback(KvActorsConfig.ForSqlite(options.DataDirectory, overlays));

    /// <summary>What the ActorSystem for <paramref name="options"/> is created with: <see cref="Config"/> and the journal's setup.</summary>
    public static ActorSystemSetup Setup(NodeOptions options, ClusterIdentity? identity, params string[] overlays) =>
        KvActorsConfig.SqliteSetup(options.DataDirectory, Config(options, identity, overlays));

    /// <summary>
    /// Checks <paramref name="options"/> against what the data directory records. Returns the recorded identity
    /// (null for an empty directory).
    /// </summary>
    /// <exception cref="NodeStartException">The options are unusable, or disagree with the data directory.</exception>
    public static ClusterIdentity? Check(NodeOptions options)
    {
        if (options.Problem() is { } problem) throw new NodeStartException(problem);
        ClusterIdentity? identity;
        try
        {
            identity = ClusterIdentity.Load(options.DataDirectory);
        }
        catch (InvalidDataException e)
        {
            throw new NodeStartException(e.Message);
        }
        if (identity?.Conflict(options.NodeId, options.Shards, options.Replication) is { } conflict)
            throw new NodeStartException($"{options.DataDirectory}: {conflict}");
        return identity;
    }

    /// <summary>
    /// Starts the node's actors in <paramref name="system"/> (created with <see cref="Setup"/>).
    /// <paramref name="identity"/> is what <see cref="Check"/> returned.
    /// </summary>
    public static KvNode Start(ActorSystem system, NodeOptions options, ClusterIdentity? identity)
    {
        var replicaSettings = ReplicaSettings.From(system.Settings.Config);
        var gatewaySettings = GatewaySettings.From(system.Settings.Config);
        var nodeSettings = NodeSettings.From(system.Settings.Config);
        int shards = identity?.Shards ?? options.Shards;

        system.ActorOf(QuarantineWatcher.Props(options.NodeId), NodePaths.QuarantineWatcher);
        if (identity is not null && options.Seeds.Count > 1)
            system.ActorOf(ClusterJoiner.Props(options, nodeSettings), NodePaths.Joiner);
        if (options.Seeds.Count > 1) system.ActorOf(IslandWatcher.Props(options, nodeSettings), NodePaths.IslandWatcher);
        var self = new NodeInfo { NodeId = options.NodeId, Endpoint = options.Endpoint };
        IActorRef directory = system.ActorOf(NodeDirectory.Props(self, identity?.Seeds ?? options.Seeds), NodePaths.Directory);
        IActorRef host = system.ActorOf(ReplicaHost.Props(replicaSettings, directory, options.DataDirectory), NodePaths.Replicas);
        var decided = new TaskCompletionSource<ClusterIdentity>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(FormationService.Props(options, nodeSettings, identity, host, decided), NodePaths.Formation);

        IActorRef managers = ShardManagers.Start(system, shards);
        system.ActorOf(ClusterStatusService.Props(managers, shards, ClusterStatusSettings.From(system.Settings.Config)), NodePaths.Status);
        system.ActorOf(NodeOperations.Props(managers, shards, identity?.Replication ?? options.Replication), NodePaths.Operations);
        IActorRef gateway = system.ActorOf(Routing.Gateway.Props(gatewaySettings, ShardDirectory.Empty(shards)), NodePaths.Gateway);
        directory.Tell(SubscribeKnownNodes.Instance, gateway);
        ClusterClientReceptionist.Get(system).RegisterService(gateway);
        return new KvNode(gateway, decided.Task);
    }
}
