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
/// written to <c>cluster.json</c> before it is answered; a removed shard is remembered there, never hosted again under
/// this replica id, and its journal and snapshots are deleted (again at every start, in case a crash cut that short).
/// </para>
/// </summary>
public sealed class ReplicaHost : ReceiveActor
{
    private readonly ReplicaSettings _settings;
    private readonly IActorRef _directory;
    private readonly string _dataDirectory;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, IActorRef> _replicas = [];
    private readonly Dictionary<IActorRef, int> _retiring = [];
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
        if (_retiring.Remove(terminated.ActorRef, out int retired))
        {
            DeleteData(retired);
            return;
        }
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
        foreach (int shard in identity.Hosted) StartReplica(shard);
        foreach (int shard in identity.Removed) DeleteData(shard);
        PublishHosted();
        _log.Info("Node {NodeId}: replica {Replica} of {Count} shards started ({Shards})", identity.NodeId, identity.ReplicaId,
            identity.Hosted.Count, string.Join(",", identity.Hosted));
    }

    private void StartReplica(int shard)
    {
        var address = new ReplicaAddress(shard, new ReplicaId(_identity!.ReplicaId));
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
        _directory.Tell(new LocalNodeInfo(info));
    }

    private ReplicaHostAnswer OnAddReplica(AddReplica add)
    {
        int shard = (int)add.Shard;
        if (Refuse(shard) is { } refused) return refused;
        ClusterIdentity identity = _identity!;
        if (identity.Removed.Contains(shard))
            return Answer(shard, $"node {identity.NodeId}'s replica {identity.ReplicaId} of shard {shard} was removed from the shard before, and a replica id is never reused");
        if (_replicas.ContainsKey(shard)) return Answer(shard, refusal: "");
        // Durable first: a crash after this restarts the replica, a crash before it leaves nothing behind.
        _identity = identity.Hosting(shard);
        _identity.Save(_dataDirectory);
        StartReplica(shard);
        PublishHosted();
        _log.Info("Shard {Shard}: node {NodeId} started an empty replica {Replica} to join the shard as a learner ({Reason})",
            shard, identity.NodeId, identity.ReplicaId, add.Reason);
        return Answer(shard, refusal: "");
    }

    private ReplicaHostAnswer OnRemoveReplica(RemoveReplica remove)
    {
        int shard = (int)remove.Shard;
        if (Refuse(shard) is { } refused) return refused;
        ClusterIdentity identity = _identity!;
        if (remove.ReplicaId != identity.ReplicaId)
            return Answer(shard, $"node {identity.NodeId} hosts replica {identity.ReplicaId}, not {remove.ReplicaId}");
        if (identity.Removed.Contains(shard)) return Answer(shard, refusal: "");
        // Durable first: once this is on disk the replica never starts again, even if the deletes below are cut short.
        _identity = identity.WithRemoved(shard);
        _identity.Save(_dataDirectory);
        if (_replicas.Remove(shard, out IActorRef? replica))
        {
            _retiring[replica] = shard;       // its data is deleted once it has stopped (OnReplicaStopped)
            Context.Stop(replica);
        }
        else
        {
            DeleteData(shard);
        }
        PublishHosted();
        _log.Info("Shard {Shard}: node {NodeId}'s replica {Replica} is no longer a member of the shard ({Reason}); it stops and its data is deleted",
            shard, identity.NodeId, identity.ReplicaId, remove.Reason);
        return Answer(shard, refusal: "");
    }

    private ReplicaHostAnswer? Refuse(int shard)
    {
        if (_identity is null) return new ReplicaHostAnswer { Shard = (uint)shard, Refusal = "the node has not decided its identity yet" };
        if (shard < 0 || shard >= _identity.Shards)
            return Answer(shard, $"there is no shard {shard} (the cluster has {_identity.Shards})");
        return null;
    }

    private ReplicaHostAnswer Answer(int shard, string refusal) =>
        new() { Shard = (uint)shard, NodeId = _identity!.NodeId, ReplicaId = _identity.ReplicaId, Refusal = refusal };

    private void DeleteData(int shard) =>
        Context.ActorOf(RetiredReplica.Props(new ReplicaAddress(shard, new ReplicaId(_identity!.ReplicaId))));

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
