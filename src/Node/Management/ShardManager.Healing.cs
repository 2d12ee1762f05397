using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using KvActors.Node.Placement;
using KvActors.Node.Replica;
using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Management;

public sealed partial class ShardManager
{
    // Healing, one step per poll at most, each decided afresh from what the replicas report (so a manager restarted
    // anywhere picks up where the last one stopped: even the clock, how long the leader has not heard from a member,
    // is the leader's). Only with a reachable leader whose membership is settled
    // (committed, not joint): that membership cannot be rolled back, and the leader accepts a change. In order:
    //   1. a learner the leader has not heard from for heal-after is removed (it cannot catch up);
    //   2. a voter the leader has not heard from for heal-after is replaced: an empty replica is started on a live node that does not
    //      host the shard (AddReplica), added as a learner, and, once caught up, swapped in for the dead voter in one
    //      joint change (ReplaceVoter), so the shard never has fewer voters than before;
    //   3. a learner no voter has needed for heal-after is removed;
    //   4. a replica that answers although the settled membership no longer names it (its node came back after it was
    //      replaced) is told to delete itself.
    // The Raft core refuses a second change while one is in flight, so two managers of one shard (a split cluster)
    // cannot interleave changes either.

    private readonly HashSet<ReplicaId> _refusedHosts = [];       // nodes that may never host this shard again
    private long _stepSentAt;                                     // 0: no step awaits its answer
    private string? _stepDoing;
    private (ReplicaId Dead, string DeadNode, long Started)? _healing;
    private readonly HashSet<string> _loggedOnce = [];
    private readonly Dictionary<ReplicaId, long> _unneededSince = [];

    private static long Now => Stopwatch.GetTimestamp();

    private static TimeSpan Since(long timestamp) => Stopwatch.GetElapsedTime(timestamp);

    /// <summary>How long the leader has not heard from <paramref name="id"/> (the Raft view, not Akka's), if it says.</summary>
    private static TimeSpan? Silence(ReplicaHealth leader, ReplicaId id) =>
        leader.Peers.FirstOrDefault(p => p.ReplicaId == id.Value) is { } peer ? TimeSpan.FromMilliseconds(peer.SilentMillis) : null;

    private bool Dead(ReplicaHealth leader, ReplicaId id) => Silence(leader, id) >= _settings.HealAfter;

    private void Heal()
    {
        if (_stepSentAt != 0 && Since(_stepSentAt) < _settings.StepTimeout) return;
        _stepSentAt = 0;
        if (Leader() is not { MembershipSettled: true } leader) return;
        var leaderId = new ReplicaId(leader.ReplicaId);
        ReplicaId[] voters = [.. leader.Voters.Select(v => new ReplicaId(v))];
        ReplicaId[] learners = [.. leader.Learners.Select(v => new ReplicaId(v))];
        ReportHealed(voters);

        if (learners.FirstOrDefault(l => Dead(leader, l)) is { IsSome: true } lostLearner)
        {
            Propose(leader, MembershipChangeKind.MembershipChangeRemove, lostLearner, default,
                $"the leader has not heard from learner {Known.NameOf(lostLearner)} for {SilentFor(leader, lostLearner)}");
            return;
        }
        if (voters.Where(v => v != leaderId).FirstOrDefault(v => Dead(leader, v)) is { IsSome: true } dead)
        {
            _unneededSince.Clear();
            ReplaceVoter(leader, dead, learners);
            return;
        }
        // A learner is part of a replacement whose voter may not count as lost yet (the leader changed, or a manager
        // restarted mid-move): it is removed only once it has been unneeded for heal-after.
        foreach (ReplicaId gone in _unneededSince.Keys.Where(l => !learners.Contains(l)).ToList()) _unneededSince.Remove(gone);
        if (learners.Length > 0)
        {
            _unneededSince.TryAdd(learners[0], Now);
            if (Since(_unneededSince[learners[0]]) >= _settings.HealAfter)
                Propose(leader, MembershipChangeKind.MembershipChangeRemove, learners[0], default,
                    $"learner {Known.NameOf(learners[0])} has not been needed for {_settings.HealAfter.TotalSeconds:F0} s: no voter is lost");
            return;
        }
        RemoveStaleReplicas(voters);
    }

    private void ReplaceVoter(ReplicaHealth leader, ReplicaId dead, ReplicaId[] learners)
    {
        string deadNode = Known.NameOf(dead);
        if (_healing is not { } healing || healing.Dead != dead) _healing = (dead, deadNode, Now);
        string why = $"the leader has not heard from voter {deadNode} for {SilentFor(leader, dead)}";
        if (learners.Length > 0)
        {
            ReplicaId learner = learners[0];
            Propose(leader, MembershipChangeKind.MembershipChangeReplaceVoter, dead, learner,
                $"{why}; learner {Known.NameOf(learner)} replaces it");
            return;
        }
        // An empty replica that already runs for this shard on a live node (a step before a crash or a move of this
        // manager started it) is added; otherwise one is started.
        if (_replicas.FirstOrDefault(r => r.Value is { Reachable: true, Last: { } h } && IsEmpty(h) && Known.ByReplica(r.Key) is not null)
            is { Value: not null } empty)
        {
            Propose(leader, MembershipChangeKind.MembershipChangeAddLearner, empty.Key, default,
                $"{why}; {Known.NameOf(empty.Key)} joins as a learner to replace it");
            return;
        }
        if (PickHost(leader) is not { } host)
        {
            LogOnce($"no-host-{dead}", "Shard {Shard}: {Why}, but no live node can take a replica of the shard", why);
            return;
        }
        SendStep($"start a replica on {host.NodeId}");
        Context.ActorSelection(NodePaths.On(host.Address, NodePaths.Replicas))
            .Tell(new AddReplica { Shard = (uint)_shard, Reason = $"to replace {deadNode}: {why}" }, Self);
    }

    private static bool IsEmpty(ReplicaHealth h) => h.Voters.Count == 0 && h.OutgoingVoters.Count == 0 && h.Learners.Count == 0;

    /// <summary>
    /// Where a new replica of the shard goes: a node the cluster sees up, with no replica of the shard and none removed
    /// from it, holding the fewest replicas; ties go to the rendezvous order of the shard.
    /// </summary>
    private KnownNode? PickHost(ReplicaHealth leader) =>
        Known.Nodes
            .Where(n => n.Status == NodeReachability.Up && !n.Shards.Contains(_shard) && !_refusedHosts.Contains(n.ReplicaId)
                        && !leader.Voters.Contains(n.ReplicaId.Value) && !leader.Learners.Contains(n.ReplicaId.Value))
            .OrderBy(n => n.Shards.Length)
            .ThenByDescending(n => RendezvousPlacement.Score(_shard, n.Endpoint))
            .FirstOrDefault();

    private void RemoveStaleReplicas(ReplicaId[] voters)
    {
        foreach ((ReplicaId id, Observed o) in _replicas)
        {
            // Only a replica that was a member (its own membership names it): an empty one may be about to be added.
            if (voters.Contains(id) || o is not { Reachable: true, Last: { } h } || !NamesItself(h) || Known.ByReplica(id) is not { } node) continue;
            SendStep($"remove the stale replica on {node.NodeId}");
            Context.ActorSelection(NodePaths.On(node.Address, NodePaths.Replicas)).Tell(new RemoveReplica
            {
                Shard = (uint)_shard,
                ReplicaId = id.Value,
                Reason = $"the shard's committed membership (voters {Names(voters)}) no longer includes it",
            }, Self);
            return;
        }
    }

    private static bool NamesItself(ReplicaHealth h) =>
        h.Voters.Contains(h.ReplicaId) || h.OutgoingVoters.Contains(h.ReplicaId) || h.Learners.Contains(h.ReplicaId);

    private void Propose(ReplicaHealth leader, MembershipChangeKind kind, ReplicaId replica, ReplicaId replacement, string reason)
    {
        var leaderId = new ReplicaId(leader.ReplicaId);
        // The leader answered this poll, so its node is known; if the directory has just dropped it, the next poll decides again.
        if (Known.ByReplica(leaderId) is not { } node) return;
        SendStep($"{kind} {Known.NameOf(replica)}" + (replacement.IsSome ? $" by {Known.NameOf(replacement)}" : ""));
        _log.Info("Shard {Shard}: proposing {Change} to leader {Leader}: {Reason}", _shard, _stepDoing, node.NodeId, reason);
        Context.ActorSelection(NodePaths.ReplicaOn(node.Address, new ReplicaAddress(_shard, leaderId)))
            .Tell(new ProposeMembershipChange { Shard = (uint)_shard, Kind = kind, ReplicaId = replica.Value, Replacement = replacement.Value }, Self);
    }

    private void SendStep(string doing)
    {
        _stepSentAt = Now;
        _stepDoing = doing;
    }

    private void OnChangeAnswer(MembershipChangeAnswer answer)
    {
        _stepSentAt = 0;
        // Accepted: the next poll shows it. LearnerBehind: the learner is still catching up; the next poll tries again.
        if (answer.Status is "Accepted" or "LearnerBehind") return;
        _log.Info("Shard {Shard}: the leader did not take {Change}: {Status}", _shard, _stepDoing, answer.Status);
    }

    private void OnHostAnswer(ReplicaHostAnswer answer)
    {
        _stepSentAt = 0;
        if (answer.Refusal.Length == 0) return;
        _refusedHosts.Add(new ReplicaId(answer.ReplicaId));
        _log.Warning("Shard {Shard}: node {NodeId} refused to {Step}: {Refusal}", _shard, answer.NodeId, _stepDoing, answer.Refusal);
    }

    private void ReportHealed(ReplicaId[] voters)
    {
        if (_healing is not { } healing || voters.Contains(healing.Dead)) return;
        _log.Info("Shard {Shard}: healed in {Seconds:F1} s: {Dead} is no longer a voter; voters are now {Voters}",
            _shard, Since(healing.Started).TotalSeconds, healing.DeadNode, Names(voters));
        _healing = null;
    }

    private static string SilentFor(ReplicaHealth leader, ReplicaId id) => $"{Silence(leader, id)?.TotalSeconds ?? 0:F0} s";

    private string Names(IEnumerable<ReplicaId> ids) => string.Join(",", ids.Select(Known.NameOf));

    private void LogOnce(string key, string template, string why)
    {
        if (_loggedOnce.Add(key)) _log.Warning(template, _shard, why);
    }
}
