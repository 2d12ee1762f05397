using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using KvActors.Node.Topology;

namespace KvActors.Node.Management;

/// <summary>
/// One per node at <c>/user/status</c> (<see cref="NodePaths.Status"/>). Answers <see cref="GetClusterStatus"/> with a
/// <see cref="ClusterStatus"/>: every node the local <see cref="NodeDirectory"/> knows, and every shard as its
/// <see cref="ShardManager"/> reports it (a shard whose manager does not answer within the request timeout shows only
/// its id). Requests are served concurrently, each by a short-lived child that asks all managers in parallel. The
/// service also keeps every shard manager running: without remember-entities, Cluster Sharding starts an entity only
/// when a message reaches it, so it periodically sends each manager a keep-alive.
/// </summary>
public sealed class ClusterStatusService : UntypedActor, IWithTimers
{
    private sealed record KeepAlive
    {
        public static KeepAlive Instance { get; } = new();
    }

    private readonly IActorRef _managers;
    private readonly int _shardCount;
    private readonly ClusterStatusSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private KnownNodes _known = KnownNodes.Empty;
    private int _pending;
    private bool _warnedFull;

    /// <summary>
    /// Creates the service; <paramref name="managers"/> is the shard managers' region (<see cref="ShardManagers.Start"/>)
    /// and <paramref name="shardCount"/> the cluster's number of shards.
    /// </summary>
    public ClusterStatusService(IActorRef managers, int shardCount, ClusterStatusSettings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        _managers = managers;
        _shardCount = shardCount;
        _settings = settings;
    }

    /// <summary>Props for the service; see the constructor. Start it under the name <see cref="NodePaths.Status"/>.</summary>
    public static Props Props(IActorRef managers, int shardCount, ClusterStatusSettings settings) =>
        Akka.Actor.Props.Create(() => new ClusterStatusService(managers, shardCount, settings));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart()
    {
        Context.ActorSelection("/user/" + NodePaths.Directory).Tell(SubscribeKnownNodes.Instance, Self);
        Self.Tell(KeepAlive.Instance);      // start every manager now, not one interval from now
        Timers.StartPeriodicTimer("keep-alive", KeepAlive.Instance, _settings.KeepAliveInterval);
    }

    /// <inheritdoc />
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case GetClusterStatus: OnGetClusterStatus(Sender); break;
            case KnownNodes known: _known = known; break;
            case KeepAlive:
                for (int shard = 0; shard < _shardCount; shard++) _managers.Tell(ShardManagers.KeepAlive(shard), Self);
                break;
            case IClusterShardingSerializable: break;   // StartEntityAck (internal to Akka): the manager runs, nothing to do
            case Terminated:
                _pending--;
                break;
            default: Unhandled(message); break;
        }
    }

    private void OnGetClusterStatus(IActorRef asker)
    {
        if (_pending >= _settings.MaxPendingRequests)
        {
            // Each request fans out to every shard manager: shed load here rather than flood the cluster.
            if (!_warnedFull)
                _log.Warning("Cluster status: {Pending} requests already in progress (kvactors.status.max-pending-requests); dropping more until they finish",
                    _pending);
            else
                _log.Debug("Cluster status: dropped a request from {Asker}, {Pending} in progress", asker, _pending);
            _warnedFull = true;
            return;
        }
        _warnedFull = false;
        IActorRef aggregator = Context.ActorOf(ClusterStatusAggregator.Props(asker, Nodes(), _managers, _shardCount, _settings.RequestTimeout));
        Context.Watch(aggregator);
        _pending++;
    }

    private NodeStatus[] Nodes() =>
        [.. _known.Nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal).Select(static n => new NodeStatus
        {
            Id = n.NodeId,
            Address = n.Endpoint,
            Status = n.Status switch
            {
                NodeReachability.Up => "up",
                NodeReachability.Unreachable => "unreachable",
                _ => "down",
            },
            Draining = n.Draining,
            Replicas = (uint)n.Shards.Length,
            Leading = (uint)n.Leading.Length,
        })];
}
