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
/// each from its journal, or, when the journal is empty, starting it with the shard's initial membership if it is one
/// of the shard's initial voters and with none otherwise), tells the node directory what it hosts, and keeps every
/// replica told where its peers are now.
/// <para>
/// Shard managers add and remove replicas here (<see cref="AddReplica"/>, <see cref="RemoveReplica"/>). Each change is
/// written to <c>cluster.json</c> before it is answered; a removal is remembered there, so that a later replica of the same
/// shard on this node gets a new id, and the removed replica's journal and snapshots are deleted (again at every start,
/// in case a crash cut that short).
/// </para>
/// <para>
/// An operator's drain (<see cref="DrainNode"/>, passed on by the cluster status service) is recorded here too, and
/// published in this node's <see cref="NodeInfo"/>: shard managers then move its replicas and leaderships away.
/// </para>
/// </summary>
public sealed class ReplicaHost : ReceiveActor
{
    private readonly ReplicaSettings _settings;
    private readonly IActorRef _directory;
    private readonly string _dataDirectory;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, IActorRef> _replicas = [];
    private readonly Dictionary<IActorRef, ReplicaAddress> _retiring = [];
    private readonly SortedSet<int> _leading = [];        // shards whose local replica last said it leads
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
        Receive<AddReplica>(add => Sender.Tell(OnAddReplica(add)));
        Receive<RemoveReplica>(remove => Sender.Tell(OnRemoveReplica(remove)));
        Receive<ReplicaLeadership>(OnLeadership);
        Receive<DrainNode>(drain => Sender.Tell(OnDrain(drain)));
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
        if (_retiring.Remove(terminated.ActorRef, out ReplicaAddress retired))
        {
            DeleteData(retired);
            return;
        }
        int shard = _replicas.FirstOrDefault(r => r.Value.Equals(terminated.ActorRef)).Key;
        _log.Error("Shard {Shard} replica {Replica} stopped (see the error before this); stopping node {NodeId} so that it restarts from its journal",
            shard, _identity?.ReplicaId, _identity?.NodeId);
        CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.UnknownReason.Instance);
    }

    /// <summary>Publishes which shards this node leads, so that shard managers can spread leaders.</summary>
    private void OnLeadership(ReplicaLeadership leadership)
    {
        if (!_replicas.TryGetValue(leadership.Shard, out IActorRef? replica) || !replica.Equals(Sender)) return;     // a retired replica
        if (leadership.Leading ? _leading.Add(leadership.Shard) : _leading.Remove(leadership.Shard)) PublishHosted();
    }

    private void Start(ClusterIdentity identity)
    {
        if (_identity is not null) return;
        _identity = identity;
        SqliteFiles.Prepare(_dataDirectory);
        Failpoints.StorageOpened(_dataDirectory);
        foreach (int shard in identity.Hosted) StartReplica(shard);
        foreach (int shard in identity.Removed.Distinct())
        {
            foreach (ReplicaId removed in identity.RemovedReplicasOf(shard)) DeleteData(new ReplicaAddress(shard, removed));
        }
        PublishHosted();
        _log.Info("Node {NodeId}: replica {Replica} of {Count} shards started ({Shards})", identity.NodeId, identity.ReplicaId,
            identity.Hosted.Count, string.Join(",", identity.Hosted));
    }

    private void StartReplica(int shard)
    {
        var address = new ReplicaAddress(shard, _identity!.ReplicaOf(shard));
        ReplicaId[] initialVoters = ReplicaIds.InitialVoters(shard, _identity.Seeds, _identity.Replication);
        // Only a replica the shard started with knows its membership; any other learns it from the leader.
        Membership initial = initialVoters.Contains(address.Replica) ? Membership.Of(initialVoters) : Membership.Empty;
        IActorRef child = Context.ActorOf(ReplicaActor.Props(address, _settings, initial, Peers(shard)), address.ActorName);
        Context.Watch(child);
        _replicas[shard] = child;
    }

    private void PublishHosted()
    {
        var info = new NodeInfo { NodeId = _identity!.NodeId, Endpoint = _identity.Endpoint, ReplicaId = _identity.ReplicaId };
        info.Shards.AddRange(_identity.Hosted.Select(s => (uint)s));
        info.Removed.AddRange(_identity.Removed.Select(s => (uint)s));
        info.Leading.AddRange(_leading.Select(s => (uint)s));
        info.Draining = _identity.Draining;
        _directory.Tell(new LocalNodeInfo(info));
    }

    private ReplicaHostAnswer OnAddReplica(AddReplica add)
    {
        int shard = (int)add.Shard;
        if (Refuse(shard) is { } refused) return refused;
        ClusterIdentity identity = _identity!;
        if (_replicas.ContainsKey(shard)) return Answer(shard, refusal: "");
        // Durable first: a crash after this restarts the replica, a crash before it leaves nothing behind.
        _identity = identity.Hosting(shard);
        _identity.Save(_dataDirectory);
        StartReplica(shard);
        PublishHosted();
        _log.Info("Shard {Shard}: node {NodeId} started an empty replica {Replica} to join the shard as a learner ({Reason})",
            shard, identity.NodeId, _identity.ReplicaOf(shard), add.Reason);
        return Answer(shard, refusal: "");
    }

    private ReplicaHostAnswer OnRemoveReplica(RemoveReplica remove)
    {
        int shard = (int)remove.Shard;
        if (Refuse(shard) is { } refused) return refused;
        ClusterIdentity identity = _identity!;
        var removing = new ReplicaId(remove.ReplicaId);
        if (identity.RemovedReplicasOf(shard).Contains(removing)) return Answer(shard, refusal: "");
        if (!identity.Hosted.Contains(shard) || removing != identity.ReplicaOf(shard))
            return Answer(shard, identity.Hosted.Contains(shard)
                ? $"node {identity.NodeId} hosts replica {identity.ReplicaOf(shard)} of shard {shard}, not {remove.ReplicaId}"
                : $"node {identity.NodeId} hosts no replica of shard {shard}");
        // Durable first: once this is on disk the replica never starts again, even if the deletes below are cut short.
        _identity = identity.WithRemoved(shard);
        _identity.Save(_dataDirectory);
        var address = new ReplicaAddress(shard, removing);
        _leading.Remove(shard);
        if (_replicas.Remove(shard, out IActorRef? replica))
        {
            _retiring[replica] = address;       // its data is deleted once it has stopped (OnReplicaStopped)
            Context.Stop(replica);
        }
        else
        {
            DeleteData(address);
        }
        PublishHosted();
        _log.Info("Shard {Shard}: node {NodeId}'s replica {Replica} is no longer a member of the shard ({Reason}); it stops and its data is deleted",
            shard, identity.NodeId, removing, remove.Reason);
        return Answer(shard, refusal: "");
    }

    private NodeCommandAnswer OnDrain(DrainNode drain)
    {
        var answer = new NodeCommandAnswer { NodeId = drain.NodeId };
        if (_identity is null) answer.Refusal = $"node {drain.NodeId} has not decided its identity yet";
        else if (drain.NodeId != _identity.NodeId) answer.Refusal = $"this is node {_identity.NodeId}, not {drain.NodeId}";
        if (answer.Refusal.Length > 0 || _identity!.Draining == !drain.Cancel) return answer;
        // Durable first: a drain survives a restart of the node, and is undone only by cancelling it.
        _identity = _identity with { Draining = !drain.Cancel };
        _identity.Save(_dataDirectory);
        PublishHosted();
        _log.Info(drain.Cancel
            ? "Node {NodeId}: the drain is cancelled; it may hold replicas ({Count} now) and lead shards again"
            : "Node {NodeId}: draining; shard managers move its {Count} replicas and its leaderships to other nodes",
            _identity.NodeId, _identity.Hosted.Count);
        return answer;
    }

    private ReplicaHostAnswer? Refuse(int shard)
    {
        if (_identity is null) return new ReplicaHostAnswer { Shard = (uint)shard, Refusal = "the node has not decided its identity yet" };
        if (shard < 0 || shard >= _identity.Shards)
            return Answer(shard, $"there is no shard {shard} (the cluster has {_identity.Shards})");
        return null;
    }

    /// <summary>The answer to a request about <paramref name="shard"/>, naming this node's replica of it as it is now.</summary>
    private ReplicaHostAnswer Answer(int shard, string refusal) =>
        new() { Shard = (uint)shard, NodeId = _identity!.NodeId, ReplicaId = _identity.ReplicaOf(shard).Value, Refusal = refusal };

    private void DeleteData(ReplicaAddress replica) => Context.ActorOf(RetiredReplica.Props(replica));

    private ImmutableDictionary<ReplicaId, ActorPath> Peers(int shard)
    {
        var peers = ImmutableDictionary.CreateBuilder<ReplicaId, ActorPath>();
        foreach (KnownNode node in _known.Nodes)
        {
            if (node.Status == NodeReachability.Down) continue;
            ReplicaId replica = node.ReplicaOf(shard);
            peers[replica] = NodePaths.ReplicaOn(node.Address, new ReplicaAddress(shard, replica));
        }
        return peers.ToImmutable();
    }
}
