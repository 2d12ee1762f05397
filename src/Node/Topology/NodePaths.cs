using Akka.Actor;
using KvActors.Node.Replica;
using KvActors.Protocol;

namespace KvActors.Node.Topology;

/// <summary>Where a node's well-known actors live, the same on every node, so a peer can address them by node address.</summary>
public static class NodePaths
{
    /// <summary>The name of the ActorSystem of every node: nodes of one cluster must share it.</summary>
    public const string SystemName = "kvactors";

    /// <summary>The <see cref="NodeDirectory"/>: <c>/user/directory</c>.</summary>
    public const string Directory = "directory";

    /// <summary>The formation service (answers seeds asking whether they formed): <c>/user/formation</c>.</summary>
    public const string Formation = "formation";

    /// <summary>The replica host, parent of every local replica: <c>/user/replicas</c>.</summary>
    public const string Replicas = "replicas";

    /// <summary>The Gateway clients talk to (registered with the ClusterClient receptionist): <c>/user/gateway</c>.</summary>
    public const string Gateway = "gateway";

    /// <summary>The cluster status service behind <c>kvctl status</c>: <c>/user/status</c>.</summary>
    public const string Status = "status";

    /// <summary>The operator's node commands, drain and remove (<c>/user/operations</c>).</summary>
    public const string Operations = "operations";

    /// <summary>The actor that restarts the node when a member quarantined it (<c>/user/quarantine-watcher</c>).</summary>
    public const string QuarantineWatcher = "quarantine-watcher";

    /// <summary>The actor that gets a restarted node back into the Akka cluster (<c>/user/joiner</c>).</summary>
    public const string Joiner = "joiner";

    /// <summary>The actor that ends this node's membership when it is in the smaller of two clusters (<c>/user/island-watcher</c>).</summary>
    public const string IslandWatcher = "island-watcher";

    /// <summary>The Cluster Sharding type name of the shard managers.</summary>
    public const string ShardManagerType = "shard-manager";

    /// <summary>The path of <paramref name="name"/> (one of the names above) on the node at <paramref name="node"/>.</summary>
    public static ActorPath On(Address node, string name) => new RootActorPath(node) / "user" / name;

    /// <summary>Where <paramref name="replica"/> lives when its node is at <paramref name="node"/>.</summary>
    public static ActorPath ReplicaOn(Address node, ReplicaAddress replica) => On(node, Replicas) / replica.ActorName;

    /// <summary>The Akka address of the node that binds <paramref name="endpoint"/> (<c>host:port</c>).</summary>
    /// <exception cref="FormatException">Not <c>host:port</c> with a port in 1..65535.</exception>
    public static Address AddressOf(string endpoint)
    {
        (string host, int port) = Endpoints.Parse(endpoint);
        return new Address("akka.tcp", SystemName, host, port);
    }
}
