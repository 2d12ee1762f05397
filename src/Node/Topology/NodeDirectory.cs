using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using KvActors.Raft.Ids;

namespace KvActors.Node.Topology;

/// <summary>The local node's own <see cref="NodeInfo"/> changed (its identity was decided, or it hosts other shards).</summary>
public sealed record LocalNodeInfo(NodeInfo Info);

/// <summary>
/// One per node at <c>/user/directory</c>. Answers <see cref="GetNodeInfo"/> about this node, asks every Akka.Cluster
/// member the same, and keeps <see cref="KnownNodes"/>: which node (id, endpoint, replica id, hosted shards) is at which
/// address, and whether the cluster sees it up. Replicas route their Raft messages by it and the Gateway its requests;
/// nobody votes or leads by it.
/// </summary>
public sealed class NodeDirectory : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    private sealed record Refresh
    {
        public static Refresh Instance { get; } = new();
    }

    private sealed record Member(UniqueAddress Address, NodeReachability Status, NodeInfo? Info);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Address, Member> _members = [];
    private readonly HashSet<IActorRef> _subscribers = [];
    private NodeInfo _self;
    private KnownNodes _known = KnownNodes.Empty;

    /// <summary>Creates the directory; <paramref name="self"/> is what this node says about itself until told otherwise.</summary>
    public NodeDirectory(NodeInfo self)
    {
        _self = self;
        Receive<GetNodeInfo>(_ => Sender.Tell(_self));
        Receive<LocalNodeInfo>(update =>
        {
            _self = update.Info;
            AskAll();
        });
        Receive<NodeInfo>(OnNodeInfo);
        Receive<GetKnownNodes>(_ => Sender.Tell(_known));
        Receive<SubscribeKnownNodes>(_ =>
        {
            if (_subscribers.Add(Sender)) Context.Watch(Sender);
            Sender.Tell(_known);
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<Refresh>(_ => AskAll());
        Receive<ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ClusterEvent.UnreachableMember>(e => SetStatus(e.Member.UniqueAddress, NodeReachability.Unreachable));
        Receive<ClusterEvent.ReachableMember>(e => SetStatus(e.Member.UniqueAddress, NodeReachability.Up));
    }

    /// <summary>Props for the directory.</summary>
    public static Props Props(NodeInfo self) => Akka.Actor.Props.Create(() => new NodeDirectory(self));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart()
    {
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("refresh", Refresh.Instance, RefreshInterval);
    }

    /// <inheritdoc />
    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        Akka.Cluster.Member member = e.Member;
        switch (member.Status)
        {
            case MemberStatus.Up or MemberStatus.WeaklyUp:
                _members.TryGetValue(member.Address, out Member? previous);
                NodeInfo? info = previous is not null && previous.Address == member.UniqueAddress ? previous.Info : null;
                _members[member.Address] = new Member(member.UniqueAddress, NodeReachability.Up, info);
                Ask(member.Address);
                break;
            case MemberStatus.Down or MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Removed:
                SetStatus(member.UniqueAddress, NodeReachability.Down);
                break;
            default:
                return;     // Joining: asked once Up
        }
        Publish();
    }

    private void SetStatus(UniqueAddress address, NodeReachability status)
    {
        // A restarted node has the same address and a new uid: events about the old incarnation must not touch the new.
        if (!_members.TryGetValue(address.Address, out Member? member) || member.Address != address) return;
        _members[address.Address] = member with { Status = status };
        Publish();
    }

    private void AskAll()
    {
        foreach ((Address address, Member member) in _members)
        {
            if (member.Status != NodeReachability.Down) Ask(address);
        }
    }

    private void Ask(Address address) =>
        Context.ActorSelection(NodePaths.On(address, NodePaths.Directory)).Tell(new GetNodeInfo(), Self);

    private void OnNodeInfo(NodeInfo info)
    {
        Address address = Sender.Path.Address.HasLocalScope ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : Sender.Path.Address;
        if (!_members.TryGetValue(address, out Member? member)) return;     // not (or no longer) a member
        if (member.Info is { } old && old.Equals(info)) return;
        if (member.Info is null || member.Info.ReplicaId != info.ReplicaId)
            _log.Info("Node {NodeId} at {Endpoint} hosts {Count} shards as replica {Replica}", info.NodeId, info.Endpoint, info.Shards.Count, info.ReplicaId);
        _members[address] = member with { Info = info };
        Publish();
    }

    private void Publish()
    {
        var nodes = ImmutableArray.CreateBuilder<KnownNode>();
        foreach ((Address address, Member member) in _members.OrderBy(m => m.Key.ToString(), StringComparer.Ordinal))
        {
            if (member.Info is not { ReplicaId: not 0 } info) continue;     // identity not decided yet: nothing to route to
            nodes.Add(new KnownNode(info.NodeId, info.Endpoint, address, new ReplicaId(info.ReplicaId),
                [.. info.Shards.Select(s => (int)s)], member.Status));
        }
        var known = new KnownNodes(nodes.ToImmutable());
        if (known.Nodes.SequenceEqual(_known.Nodes, KnownNodeComparer.Instance)) return;
        _known = known;
        foreach (IActorRef subscriber in _subscribers) subscriber.Tell(known);
    }

    private sealed class KnownNodeComparer : IEqualityComparer<KnownNode>
    {
        public static KnownNodeComparer Instance { get; } = new();

        public bool Equals(KnownNode? x, KnownNode? y) =>
            x is not null && y is not null && x.NodeId == y.NodeId && x.Endpoint == y.Endpoint && x.Address == y.Address &&
            x.ReplicaId == y.ReplicaId && x.Status == y.Status && x.Shards.SequenceEqual(y.Shards);

        public int GetHashCode(KnownNode obj) => HashCode.Combine(obj.NodeId, obj.Address);
    }
}
