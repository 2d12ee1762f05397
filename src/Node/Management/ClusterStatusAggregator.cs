using Akka.Actor;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Management;

/// <summary>
/// Serves one <see cref="GetClusterStatus"/> for the <see cref="ClusterStatusService"/>: asks every shard's manager at
/// once, and answers the asker when all have answered or the timeout passes (a silent shard shows only its id), then
/// stops. A node that is down is listed only while some shard still names it: once its replicas are replaced (or it was
/// removed), it is gone from the status.
/// </summary>
internal sealed class ClusterStatusAggregator : UntypedActor, IWithTimers
{
    private sealed record TimedOut
    {
        public static TimedOut Instance { get; } = new();
    }

    private readonly IActorRef _asker;
    private readonly NodeStatus[] _nodes;
    private readonly IActorRef _managers;
    private readonly ShardStatus?[] _shards;
    private readonly TimeSpan _timeout;
    private int _missing;

    public ClusterStatusAggregator(IActorRef asker, NodeStatus[] nodes, IActorRef managers, int shardCount, TimeSpan timeout)
    {
        _asker = asker;
        _nodes = nodes;
        _managers = managers;
        _shards = new ShardStatus?[shardCount];
        _missing = shardCount;
        _timeout = timeout;
    }

    public static Props Props(IActorRef asker, NodeStatus[] nodes, IActorRef managers, int shardCount, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ClusterStatusAggregator(asker, nodes, managers, shardCount, timeout));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        for (int shard = 0; shard < _shards.Length; shard++) _managers.Tell(new GetShardStatus { Shard = (uint)shard }, Self);
        Timers.StartSingleTimer("timeout", TimedOut.Instance, _timeout);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ShardStatus status when status.Id < (uint)_shards.Length && _shards[status.Id] is null:
                _shards[status.Id] = status;
                if (--_missing == 0) Finish();
                break;
            case ShardStatus: break;        // a duplicate, or a shard this cluster does not have
            case TimedOut: Finish(); break;
            default: Unhandled(message); break;
        }
    }

    private void Finish()
    {
        var answer = new ClusterStatus();
        for (int shard = 0; shard < _shards.Length; shard++)
            answer.Shards.Add(_shards[shard] ?? new ShardStatus { Id = (uint)shard });
        HashSet<string> named = [.. answer.Shards.SelectMany(s => s.Voters.Concat(s.Learners).Concat(s.Replicas.Select(r => r.Node)))];
        answer.Nodes.AddRange(_nodes.Where(n => n.Status != "down" || named.Contains(n.Id)));
        _asker.Tell(answer, Context.Parent);
        Context.Stop(Self);
    }
}
