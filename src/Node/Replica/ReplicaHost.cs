using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using KvActors.Node.Hosting;
using KvActors.Node.Placement;
using KvActors.Node.Topology;
using KvActors.Raft;
using KvActors.Raft.Ids;

namespace KvActors.Node.Replica;

/// <summary>
/// One per node at <c>/user/replicas</c>: the parent of every local replica. Once the node's identity is decided
/// (<see cref="IdentityDecided"/>) it starts a replica of every shard the identity says this node hosts (recovering
/// each from its journal, or starting it with the shard's initial membership when the journal is empty), tells the
/// node directory what it hosts, and keeps every replica told where its peers are now.
/// </summary>
public sealed class ReplicaHost : ReceiveActor
{
    private readonly ReplicaSettings _settings;
    private readonly IActorRef _directory;
    private readonly string _dataDirectory;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, IActorRef> _replicas = [];
    private ClusterIdentity? _identity;
    private KnownNodes _known = KnownNodes.Empty;

    /// <summary>Creates the host; <paramref name="directory"/> is the local <see cref="NodeDirectory"/>.</summary>
    public ReplicaHost(ReplicaSettings settings, IActorRef directory, string dataDirectory)
    {
        _settings = settings;
        _directory = directory;
        _dataDirectory = dataDirectory;
        Receive<IdentityDecided>(decided => Start(decided.Identity));
        Receive<KnownNodes>(known =>
        {
            _known = known;
            foreach ((int shard, IActorRef replica) in _replicas) replica.Tell(new UpdatePeers(Peers(shard)));
        });
        Receive<Terminated>(OnReplicaStopped);
    }

    /// <summary>Props for the host; see the constructor.</summary>
    public static Props Props(ReplicaSettings settings, IActorRef directory, string dataDirectory) =>
        Akka.Actor.Props.Create(() => new ReplicaHost(settings, directory, dataDirectory));

    /// <inheritdoc />
    protected override void PreStart() => _directory.Tell(SubscribeKnownNodes.Instance);

    /// <summary>
    /// A replica that stops (a failed journal write stops it on purpose: its core may be ahead of its disk) leaves
    /// its shard one replica short; stop the node rather than serve without it, so the operator sees it.
    /// </summary>
    private void OnReplicaStopped(Terminated terminated)
    {
        int shard = _replicas.FirstOrDefault(r => r.Value.Equals(terminated.ActorRef)).Key;
        _log.Error("Shard {Shard} replica {Replica} stopped (see the error before this); stopping node {NodeId} so that it restarts from its journal",
            shard, _identity?.ReplicaId, _identity?.NodeId);
        CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.UnknownReason.Instance);
    }

    private void Start(ClusterIdentity identity)
    {
        if (_identity is not null) return;
        _identity = identity;
        SqliteFiles.Prepare(_dataDirectory);
        Failpoints.StorageOpened(_dataDirectory);
        var replica = new ReplicaId(identity.ReplicaId);
        foreach (int shard in identity.Hosted)
        {
            var address = new ReplicaAddress(shard, replica);
            Membership initial = Membership.Of(ReplicaIds.InitialVoters(shard, identity.Seeds, identity.Replication));
            IActorRef child = Context.ActorOf(ReplicaActor.Props(address, _settings, initial, Peers(shard)), address.ActorName);
            Context.Watch(child);
            _replicas[shard] = child;
        }
        var info = new NodeInfo { NodeId = identity.NodeId, Endpoint = identity.Endpoint, ReplicaId = identity.ReplicaId };
        info.Shards.AddRange(identity.Hosted.Select(s => (uint)s));
        _directory.Tell(new LocalNodeInfo(info));
        _log.Info("Node {NodeId}: replica {Replica} of {Count} shards started ({Shards})", identity.NodeId, replica,
            identity.Hosted.Count, string.Join(",", identity.Hosted));
    }

    private ImmutableDictionary<ReplicaId, ActorPath> Peers(int shard)
    {
        var peers = ImmutableDictionary.CreateBuilder<ReplicaId, ActorPath>();
        foreach (KnownNode node in _known.Nodes)
        {
            if (node.Status != NodeReachability.Down)
                peers[node.ReplicaId] = NodePaths.ReplicaOn(node.Address, new ReplicaAddress(shard, node.ReplicaId));
        }
        return peers.ToImmutable();
    }
}
