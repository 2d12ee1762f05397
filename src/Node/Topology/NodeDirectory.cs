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
/// member and every seed the same, and keeps <see cref="KnownNodes"/>: which node (id, endpoint, replica id, hosted
/// shards) is at which address, and whether the cluster sees it up. Replicas route their Raft messages by it and the
/// Gateway its requests; nobody votes or leads by it.
/// </summary>
/// <remarks>
/// Seeds are asked directly, over Akka.Remote, besides cluster members: a restarted node must not wait for Akka.Cluster
/// to admit it (which waits for its previous incarnation to be removed) before its replicas can reach their peers and
/// its Gateway can route. A seed known only from its answer counts as up while it keeps answering.
/// </remarks>
public sealed class NodeDirectory : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    private sealed record Refresh
    {
        public static Refresh Instance { get; } = new();
    }

    /// <summary>What is known about the node at one address. <paramref name="Uid"/> is null while it is known only by its
    /// own answers (not yet a cluster member); <paramref name="Silent"/> counts refreshes it has not answered since.</summary>
    private sealed record Member(UniqueAddress? Uid, NodeReachability Status, NodeInfo? Info, int Silent = 0);

    /// <summary>Refreshes after which a node known only by its answers, and silent since, is forgotten.</summary>
    private const int ForgetAfterSilentRefreshes = 3;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Address, Member> _members = [];
    private readonly HashSet<IActorRef> _subscribers = [];
    private readonly Address[] _seeds;
    private NodeInfo _self;
    private KnownNodes _known = KnownNodes.Empty;

    /// <summary>
    /// Creates the directory; <paramref name="self"/> is what this node says about itself until told otherwise, and
    /// <paramref name="seeds"/> (<c>host:port</c>) are asked directly besides the cluster's members.
    /// </summary>
    public NodeDirectory(NodeInfo self, IEnumerable<string> seeds)
    {
        _self = Stamped(self);
        _seeds = [.. seeds.Select(NodePaths.AddressOf)];
        Receive<GetNodeInfo>(_ => Sender.Tell(_self));
        Receive<LocalNodeInfo>(update =>
        {
            _self = Stamped(update.Info);
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
        Receive<Refresh>(_ => OnRefresh());
        Receive<ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ClusterEvent.UnreachableMember>(e => SetStatus(e.Member.UniqueAddress, NodeReachability.Unreachable));
        Receive<ClusterEvent.ReachableMember>(e => SetStatus(e.Member.UniqueAddress, NodeReachability.Up));
    }

    /// <summary>Props for the directory.</summary>
    public static Props Props(NodeInfo self, IEnumerable<string> seeds) => Akka.Actor.Props.Create(() => new NodeDirectory(self, seeds));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart()
    {
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("refresh", Refresh.Instance, RefreshInterval);
        AskAll();
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
                // Keep what the same process said (same uid, or answered before it was a member); a new uid is a restart.
                NodeInfo? info = previous is not null && (previous.Uid is null || previous.Uid == member.UniqueAddress) ? previous.Info : null;
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
        if (!_members.TryGetValue(address.Address, out Member? member) || member.Uid != address) return;
        _members[address.Address] = member with { Status = status };
        Publish();
    }

    private void OnRefresh()
    {
        // A node known only by its answers that stopped answering is gone (or restarting): forget it.
        foreach ((Address address, Member member) in _members.ToArray())
        {
            if (member.Uid is not null) continue;
            if (member.Silent >= ForgetAfterSilentRefreshes) _members.Remove(address);
            else _members[address] = member with { Silent = member.Silent + 1 };
        }
        Publish();
        AskAll();
    }

    private void AskAll()
    {
        var asked = new HashSet<Address>();
        foreach ((Address address, Member member) in _members)
        {
            if (member.Status != NodeReachability.Down && asked.Add(address)) Ask(address);
        }
        foreach (Address seed in _seeds)
        {
            if (asked.Add(seed)) Ask(seed);
        }
    }

    private void Ask(Address address) =>
        Context.ActorSelection(NodePaths.On(address, NodePaths.Directory)).Tell(new GetNodeInfo(), Self);

    /// <summary><paramref name="info"/> with this process's Akka incarnation, which answers carry.</summary>
    private NodeInfo Stamped(NodeInfo info)
    {
        NodeInfo stamped = info.Clone();
        stamped.Uid = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress.Uid;
        return stamped;
    }

    private void OnNodeInfo(NodeInfo info)
    {
        Address address = Sender.Path.Address.HasLocalScope ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : Sender.Path.Address;
        // A downed (or leaving) member answering while it shuts down is still that member: it stays down, and named.
        if (_members.TryGetValue(address, out Member? known) && known is { Status: NodeReachability.Down, Uid: { } uid } && uid.Uid == info.Uid) return;
        if (known is not { } member || member.Status == NodeReachability.Down
            || member.Info is { ReplicaId: not 0 } decided && decided.ReplicaId != info.ReplicaId)
        {
            // Not a member (yet): a seed that answered directly, perhaps the restart of a downed one, or a node that
            // came back with a new identity (its data directory was wiped) while the cluster still holds its previous
            // incarnation unreachable, which Akka may take many seconds to remove. It answers, so it is up as far as
            // routing and placing new replicas go; Raft decides the rest. Events about the previous incarnation no
            // longer touch it (they carry the old uid).
            member = new Member(null, NodeReachability.Up, null);
        }
        if (member.Info is null || member.Info.ReplicaId != info.ReplicaId)
            _log.Info("Node {NodeId} at {Endpoint} hosts {Count} shards as replica {Replica}", info.NodeId, info.Endpoint, info.Shards.Count, info.ReplicaId);
        _members[address] = member with { Info = info, Silent = 0 };
        Publish();
    }

    private void Publish()
    {
        var nodes = ImmutableArray.CreateBuilder<KnownNode>();
        foreach ((Address address, Member member) in _members.OrderBy(m => m.Key.ToString(), StringComparer.Ordinal))
        {
            if (member.Info is not { ReplicaId: not 0 } info) continue;     // identity not decided yet: nothing to route to
            nodes.Add(new KnownNode(info.NodeId, info.Endpoint, address, new ReplicaId(info.ReplicaId),
                [.. info.Shards.Select(s => (int)s)], member.Status)
            {
                Removed = [.. info.Removed.Select(s => (int)s).Order()],
                Leading = [.. info.Leading.Select(s => (int)s).Order()],
                Draining = info.Draining,
            });
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
            x.ReplicaId == y.ReplicaId && x.Status == y.Status && x.Shards.SequenceEqual(y.Shards)
            && x.Removed.SequenceEqual(y.Removed) && x.Leading.SequenceEqual(y.Leading) && x.Draining == y.Draining;

        public int GetHashCode(KnownNode obj) => HashCode.Combine(obj.NodeId, obj.Address);
    }
}
