using Akka.Actor;
using Akka.Event;
using KvActors.Node.Topology;

namespace KvActors.Node.Management;

/// <summary>
/// One per node at <c>/user/operations</c> (<see cref="NodePaths.Operations"/>): the operator's node commands, which the
/// Gateway passes here. <see cref="DrainNode"/> is checked against the local <see cref="NodeDirectory"/>'s view and then
/// passed to the drained node's replica host, which records it and answers; shard managers see it in that node's
/// <see cref="NodeInfo"/> and move its replicas and leaderships away. <see cref="RemoveNode"/> downs the node in
/// Akka.Cluster and tells every shard's manager to replace its replicas now (<see cref="ForgetReplicas"/>).
/// A refusal changes nothing and says why in one line.
/// </summary>
public sealed class NodeOperations : ReceiveActor
{
    private readonly IActorRef _managers;
    private readonly int _shardCount;
    private readonly int _replication;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private KnownNodes _known = KnownNodes.Empty;

    /// <summary>
    /// Creates the actor; <paramref name="managers"/> is the shard managers' region (<see cref="ShardManagers.Start"/>),
    /// <paramref name="shardCount"/> and <paramref name="replication"/> the cluster's.
    /// </summary>
    public NodeOperations(IActorRef managers, int shardCount, int replication)
    {
        _managers = managers;
        _shardCount = shardCount;
        _replication = replication;
        Receive<KnownNodes>(known => _known = known);
        Receive<DrainNode>(OnDrain);
        Receive<RemoveNode>(OnRemove);
    }

    /// <summary>Props for the actor; see the constructor. Start it under the name <see cref="NodePaths.Operations"/>.</summary>
    public static Props Props(IActorRef managers, int shardCount, int replication) =>
        Akka.Actor.Props.Create(() => new NodeOperations(managers, shardCount, replication));

    /// <inheritdoc />
    protected override void PreStart() =>
        Context.ActorSelection("/user/" + NodePaths.Directory).Tell(SubscribeKnownNodes.Instance, Self);

    private void OnDrain(DrainNode drain)
    {
        KnownNode? node = Find(drain.NodeId, out string? refusal);
        if (node is not null && node.Status != NodeReachability.Up)
            refusal = $"node {node.NodeId} is {Describe(node.Status)}: only a node that is up can be drained (a lost node's replicas " +
                      $"are rebuilt elsewhere after heal-after; kvctl node remove {node.NodeId} does it now)";
        else if (node is not null && !drain.Cancel && !node.Draining) refusal = TooFewLeft(node, "draining");
        if (refusal is not null)
        {
            Refuse(drain.NodeId, refusal);
            return;
        }
        // The node records the drain itself (in its cluster.json, so it survives a restart) and answers the asker.
        Context.ActorSelection(NodePaths.On(node!.Address, NodePaths.Replicas)).Tell(drain, Sender);
    }

    private void OnRemove(RemoveNode remove)
    {
        KnownNode? node = Find(remove.NodeId, out string? refusal);
        if (node is { Status: NodeReachability.Up })
            refusal = $"node {node.NodeId} is up: only a node that is down or unreachable can be removed " +
                      $"(to take a live node out: kvctl node drain {node.NodeId}, stop it, then remove it)";
        else if (node is not null) refusal = TooFewLeft(node, "removing");
        if (refusal is not null)
        {
            Refuse(remove.NodeId, refusal);
            return;
        }
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        if (cluster.State.Members.Any(m => m.Address == node!.Address)) cluster.Down(node!.Address);
        ulong[] replicas = [.. node!.AllReplicaIds().Select(id => id.Value)];
        _log.Info("Node {NodeId} at {Endpoint} is removed by an operator: it is downed, and every shard replaces its replicas there now",
            node.NodeId, node.Endpoint);
        for (int shard = 0; shard < _shardCount; shard++)
        {
            var forget = new ForgetReplicas { Shard = (uint)shard, NodeId = node.NodeId };
            forget.ReplicaIds.AddRange(replicas);
            _managers.Tell(forget);
        }
        Sender.Tell(new NodeCommandAnswer { NodeId = node.NodeId });
    }

    /// <summary>The node named <paramref name="nodeId"/> (its up incarnation first), or null with why not.</summary>
    private KnownNode? Find(string nodeId, out string? refusal)
    {
        KnownNode? node = _known.Nodes.Where(n => n.NodeId == nodeId).OrderBy(n => n.Status).FirstOrDefault();
        refusal = node is not null ? null
            : $"there is no node '{nodeId}' in the cluster (known: {string.Join(", ", _known.Nodes.Select(n => n.NodeId).Distinct().Order(StringComparer.Ordinal))})";
        return node;
    }

    /// <summary>Null when the cluster keeps at least the replication factor of nodes that take replicas without <paramref name="node"/>.</summary>
    private string? TooFewLeft(KnownNode node, string doing)
    {
        string[] left = [.. _known.Nodes.Where(n => n.TakesReplicas && n.NodeId != node.NodeId).Select(n => n.NodeId).Distinct().Order(StringComparer.Ordinal)];
        return left.Length >= _replication ? null
            : $"{doing} {node.NodeId} would leave {left.Length} node(s) that can hold replicas ({string.Join(", ", left)}), fewer than the " +
              $"replication factor {_replication}, so its replicas could go nowhere: start another node first";
    }

    private void Refuse(string nodeId, string refusal)
    {
        _log.Info("Refused an operator's command about node {NodeId}: {Refusal}", nodeId, refusal);
        Sender.Tell(new NodeCommandAnswer { NodeId = nodeId, Refusal = refusal });
    }

    private static string Describe(NodeReachability status) => status == NodeReachability.Unreachable ? "unreachable" : "down";
}
