using Akka.Actor;
using Akka.Event;
using KvActors.Node.Replica;
using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Management;

/// <summary>
/// One per shard, a Cluster Sharding entity (type <see cref="NodePaths.ShardManagerType"/>, entity id = the shard
/// number) that may run on any node and move when its node leaves. It follows the local <see cref="NodeDirectory"/>,
/// asks every replica of its shard for its <see cref="ReplicaHealth"/> every poll interval, and answers
/// <see cref="GetShardStatus"/> with a <see cref="ShardStatus"/> built from the latest answers: leader, term, voters and
/// learners (as node ids), and each replica's applied index, lag, role and reachability. It logs each leader change.
/// Everything it knows comes from the replicas, so a manager restarted elsewhere rebuilds it within one poll.
/// <para>
/// The replicas it asks: those on nodes that host the shard, plus every member of the shard's Raft membership (as its
/// replicas report it) whose replica id belongs to a known node. A member with no known node is listed, unreachable.
/// </para>
/// <para>
/// It also heals the shard (<c>ShardManager.Healing.cs</c>): a member the shard's leader has not heard from for
/// <see cref="ShardManagerSettings.HealAfter"/> is replaced by a new replica on another live node, one Raft membership
/// change at a time, and a replica its node brought back after it was replaced is told to delete itself.
/// </para>
/// </summary>
public sealed partial class ShardManager : UntypedActor, IWithTimers
{
    /// <summary>Most status requests kept waiting for the first poll; past it they are answered with what is known.</summary>
    private const int MaxWaitingRequests = 1000;

    private sealed record Poll
    {
        public static Poll Instance { get; } = new();
    }

    private sealed record PollTimedOut(long Round);

    private sealed record AnswerWaiting
    {
        public static AnswerWaiting Instance { get; } = new();
    }

    /// <summary>What the manager knows of one replica: its last answer and whether it answered the latest poll.</summary>
    private sealed class Observed
    {
        public ReplicaHealth? Last;
        public bool Reachable;
    }

    private readonly int _shard;
    private readonly ShardManagerSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SortedDictionary<ReplicaId, Observed> _replicas = [];
    private readonly HashSet<ReplicaId> _awaiting = [];
    private readonly List<IActorRef> _waiting = [];
    private KnownNodes? _known;
    private long _round;
    private bool _roundOpen;
    private bool _roundAskedAnyone;
    private bool _polled;                 // a poll that asked at least one replica has finished
    private string? _loggedLeader;
    private ulong _loggedTerm;

    /// <summary>Creates the manager of <paramref name="shard"/>.</summary>
    public ShardManager(int shard, ShardManagerSettings settings)
    {
        _shard = shard;
        _settings = settings;
    }

    /// <summary>Props for the manager of <paramref name="shard"/>.</summary>
    public static Props Props(int shard, ShardManagerSettings settings) =>
        Akka.Actor.Props.Create(() => new ShardManager(shard, settings));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private KnownNodes Known => _known ?? KnownNodes.Empty;

    /// <inheritdoc />
    protected override void PreStart()
    {
        Subscribe();
        Timers.StartPeriodicTimer("poll", Poll.Instance, _settings.PollInterval);
    }

    /// <inheritdoc />
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case KnownNodes known:
                _known = known;
                if (!_polled && !_roundOpen) StartRound();     // someone may be waiting: do not wait for the timer
                break;
            case Poll:
                if (_known is null) Subscribe();               // the directory may have started after this manager
                else StartRound();
                break;
            case ReplicaHealth health: OnHealth(health); break;
            case PollTimedOut timedOut:
                if (_roundOpen && timedOut.Round == _round) CloseRound();
                break;
            case GetShardStatus: OnGetStatus(Sender); break;
            case AnswerWaiting: Answer(_waiting, BuildStatus()); break;
            case MembershipChangeAnswer answer: OnChangeAnswer(answer); break;
            case ReplicaHostAnswer answer: OnHostAnswer(answer); break;
            case ForgetReplicas forget: OnForget(forget); break;
            default: Unhandled(message); break;
        }
    }

    private void Subscribe() =>
        Context.ActorSelection("/user/" + NodePaths.Directory).Tell(SubscribeKnownNodes.Instance, Self);

    private void OnGetStatus(IActorRef asker)
    {
        if (_polled || _waiting.Count >= MaxWaitingRequests)
        {
            asker.Tell(BuildStatus());
            return;
        }
        // Nothing polled yet: an empty answer would read as "no leader". Wait for the first poll, at most poll-timeout.
        if (_waiting.Count == 0) Timers.StartSingleTimer("answer-waiting", AnswerWaiting.Instance, _settings.PollTimeout);
        _waiting.Add(asker);
        if (!_roundOpen && _known is not null) StartRound();
    }

    private void StartRound()
    {
        if (_roundOpen) CloseRound();       // a slow replica of the last round counts as unreachable
        _round++;
        KnownNodes known = Known;
        var targets = new SortedDictionary<ReplicaId, KnownNode?>();
        // A downed node's replica is asked about only while the shard's membership names it: once replaced, it is gone.
        foreach (KnownNode node in known.Hosting(_shard).Where(n => n.Status != NodeReachability.Down)) targets[node.ReplicaOf(_shard)] = node;
        if (ReferenceMembership() is { } membership)
        {
            foreach (ulong id in membership.Voters.Concat(membership.OutgoingVoters).Concat(membership.Learners))
                targets.TryAdd(new ReplicaId(id), known.ByReplica(new ReplicaId(id)));
        }
        foreach (ReplicaId gone in _replicas.Keys.Where(id => !targets.ContainsKey(id)).ToList()) _replicas.Remove(gone);

        _awaiting.Clear();
        var ask = new GetReplicaHealth();
        foreach ((ReplicaId id, KnownNode? node) in targets)
        {
            if (!_replicas.TryGetValue(id, out Observed? observed)) _replicas[id] = observed = new Observed();
            if (node is null || node.Status == NodeReachability.Down)
            {
                // A member no known node answers for, or on a downed node (its replicas are gone): nobody to ask. An
                // unreachable node is still asked: Akka's failure detector may be wrong where Raft is not.
                observed.Reachable = false;
                continue;
            }
            _awaiting.Add(id);
            Context.ActorSelection(NodePaths.ReplicaOn(node.Address, new ReplicaAddress(_shard, id))).Tell(ask, Self);
        }
        _roundAskedAnyone = _awaiting.Count > 0;
        _roundOpen = true;
        if (_awaiting.Count == 0) CloseRound();
        else Timers.StartSingleTimer("poll-timeout", new PollTimedOut(_round), _settings.PollTimeout);
    }

    private void OnHealth(ReplicaHealth health)
    {
        if (health.Shard != (uint)_shard)
        {
            _log.Warning("Shard {Shard}: ignored the health of replica {Replica} of shard {Other} from {Sender}",
                _shard, health.ReplicaId, health.Shard, Sender);
            return;
        }
        var id = new ReplicaId(health.ReplicaId);
        if (!_replicas.TryGetValue(id, out Observed? observed)) _replicas[id] = observed = new Observed();
        observed.Last = health;
        observed.Reachable = true;          // a late answer to an earlier round still proves it is alive
        if (_roundOpen && _awaiting.Remove(id) && _awaiting.Count == 0) CloseRound();
    }

    private void CloseRound()
    {
        _roundOpen = false;
        Timers.Cancel("poll-timeout");
        foreach (ReplicaId silent in _awaiting)
        {
            if (_replicas.TryGetValue(silent, out Observed? observed)) observed.Reachable = false;
        }
        _awaiting.Clear();
        if (_roundAskedAnyone) _polled = true;
        Heal();
        ShardStatus status = BuildStatus();
        LogLeaderChange(status);
        if (_polled && _waiting.Count > 0)
        {
            Timers.Cancel("answer-waiting");
            Answer(_waiting, status);
        }
    }

    private static void Answer(List<IActorRef> askers, ShardStatus status)
    {
        foreach (IActorRef asker in askers) asker.Tell(status);
        askers.Clear();
    }

    /// <summary>The leader: the replica answering as leader with the highest term, among those that answered the latest poll.</summary>
    private ReplicaHealth? Leader()
    {
        ReplicaHealth? leader = null;
        foreach (Observed o in _replicas.Values)
        {
            // An unreachable replica's last answer may say "leader" long after it was deposed: it does not count.
            if (o is { Reachable: true, Last: { Role: "leader" } h } && (leader is null || h.Term > leader.Term)) leader = h;
        }
        return leader;
    }

    /// <summary>Whose membership the status shows: the leader's, else the highest-term answer (reachable ones first).</summary>
    private ReplicaHealth? ReferenceMembership()
    {
        if (Leader() is { } leader) return leader;
        ReplicaHealth? best = null;
        bool bestReachable = false;
        foreach (Observed o in _replicas.Values)
        {
            if (o.Last is not { } h) continue;
            if (best is null || (o.Reachable && !bestReachable) || (o.Reachable == bestReachable && h.Term > best.Term))
            {
                best = h;
                bestReachable = o.Reachable;
            }
        }
        return best;
    }

    private ShardStatus BuildStatus()
    {
        KnownNodes known = Known;
        var status = new ShardStatus { Id = (uint)_shard };
        ReplicaHealth? leader = Leader();
        if (leader is not null)
        {
            status.Leader = known.NameOf(new ReplicaId(leader.ReplicaId));
            status.Term = leader.Term;
            status.Commit = leader.Commit;
        }
        else
        {
            foreach (Observed o in _replicas.Values)
            {
                if (o is { Reachable: true, Last: { } h } && h.Term > status.Term) status.Term = h.Term;
            }
        }
        if (ReferenceMembership() is { } reference)
        {
            // Both halves of a joint configuration vote, so both are shown as voters.
            foreach (ulong id in reference.Voters.Union(reference.OutgoingVoters).Order())
                status.Voters.Add(known.NameOf(new ReplicaId(id)));
            foreach (ulong id in reference.Learners.Order()) status.Learners.Add(known.NameOf(new ReplicaId(id)));
        }
        var entries = new List<ReplicaStatusEntry>(_replicas.Count);
        foreach ((ReplicaId id, Observed o) in _replicas)
        {
            ulong applied = o.Last?.Applied ?? 0;
            entries.Add(new ReplicaStatusEntry
            {
                Node = known.NameOf(id),
                Applied = applied,
                Lag = leader is not null && leader.Commit > applied ? leader.Commit - applied : 0,
                Role = o.Last?.Role ?? "unknown",
                Reachable = o.Reachable,
            });
        }
        status.Replicas.AddRange(entries.OrderBy(e => e.Node, StringComparer.Ordinal));
        status.Move = DescribeMove();
        return status;
    }

    private void LogLeaderChange(ShardStatus status)
    {
        if (status.HasLeader)
        {
            if (status.Leader == _loggedLeader && status.Term == _loggedTerm) return;
            _log.Info("Shard {Shard}: leader is now {Node} (term {Term})", _shard, status.Leader, status.Term);
            _loggedLeader = status.Leader;
            _loggedTerm = status.Term;
        }
        else if (_loggedLeader is not null)
        {
            _log.Warning("Shard {Shard}: no reachable replica answers as leader; the last leader was {Node} (term {Term})",
                _shard, _loggedLeader, _loggedTerm);
            _loggedLeader = null;
        }
    }
}
