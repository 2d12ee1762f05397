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
    //   1. a learner the leader has not heard from for heal-after (or whose node an operator removed) is removed;
    //   2. a voter the leader has not heard from for heal-after (or whose node an operator removed, kvctl node remove) is
    //      replaced: an empty replica is started on a live node that does not
    //      host the shard (AddReplica), added as a learner, and, once caught up, swapped in for the dead voter in one
    //      joint change (ReplaceVoter), so the shard never has fewer voters than before;
    //   3. a learner takes the place of a voter on a draining node, or of one whose node holds more replicas than the
    //      learner's (the end of a balancing move); a learner no voter has needed for heal-after is removed;
    //   4. a replica that answers although the settled membership no longer names it (its node came back after it was
    //      replaced, or it was moved away) is told to delete itself;
    //   5. with every voter on a live node, the shard balances (ReplicaBalancer): a replica is started on the least
    //      loaded node, joins as a learner, and takes the place of the voter on a draining node, else on the most
    //      loaded node (step 3; when that voter is the leader, leadership is handed to another voter first); an empty
    //      replica no step needs is deleted after heal-after;
    //   6. with nothing else to do, leaders spread (LeaderBalancer): leadership goes to the voter whose node leads the
    //      fewest shards, when the leader's node leads two or more more or is draining.
    // A draining node (kvctl node drain) is never picked to host a replica or to lead.
    // The Raft core refuses a second change while one is in flight, so two managers of one shard (a split cluster)
    // cannot interleave changes either.

    private readonly HashSet<ReplicaId> _refusedHosts = [];       // nodes that may never host this shard again
    private const string StartingReplica = "start a replica on ";
    private long _stepSentAt;                                     // 0: no step awaits its answer
    private string? _stepDoing;
    private (ReplicaId Dead, string DeadNode, long Started)? _healing;
    private (string To, ReplicaId From, string FromNode, long Started)? _balancing;
    private readonly HashSet<string> _loggedOnce = [];
    private readonly Dictionary<ReplicaId, long> _unneededSince = [];
    private readonly Dictionary<ReplicaId, long> _emptySince = [];
    private long _lastTransfer;                                   // when this manager last asked for a leader transfer
    private readonly HashSet<ReplicaId> _forgotten = [];          // replicas of nodes an operator removed: lost without waiting

    private static long Now => Stopwatch.GetTimestamp();

    private static TimeSpan Since(long timestamp) => Stopwatch.GetElapsedTime(timestamp);

    /// <summary>How long the leader has not heard from <paramref name="id"/> (the Raft view, not Akka's), if it says.</summary>
    private static TimeSpan? Silence(ReplicaHealth leader, ReplicaId id) =>
        leader.Peers.FirstOrDefault(p => p.ReplicaId == id.Value) is { } peer ? TimeSpan.FromMilliseconds(peer.SilentMillis) : null;

    private bool Dead(ReplicaHealth leader, ReplicaId id) => _forgotten.Contains(id) || Silence(leader, id) >= _settings.HealAfter;

    /// <summary>An operator removed a node (<c>kvctl node remove</c>): its replicas count as lost from now on.</summary>
    private void OnForget(ForgetReplicas forget)
    {
        int added = forget.ReplicaIds.Count(id => _forgotten.Add(new ReplicaId(id)));
        if (added > 0) _log.Info("Shard {Shard}: node {NodeId} was removed by an operator; its replica of the shard, if any, is replaced now", _shard, forget.NodeId);
    }

    private void Heal()
    {
        if (_stepSentAt != 0 && Since(_stepSentAt) < _settings.StepTimeout) return;
        _stepSentAt = 0;
        if (Leader() is not { MembershipSettled: true } leader) return;
        var leaderId = new ReplicaId(leader.ReplicaId);
        ReplicaId[] voters = [.. leader.Voters.Select(v => new ReplicaId(v))];
        ReplicaId[] learners = [.. leader.Learners.Select(v => new ReplicaId(v))];
        ReportHealed(voters);
        ReportBalanced(voters);

        if (learners.FirstOrDefault(l => Dead(leader, l)) is { IsSome: true } lostLearner)
        {
            Propose(leader, MembershipChangeKind.MembershipChangeRemove, lostLearner, default, _forgotten.Contains(lostLearner)
                ? $"an operator removed node {Known.NameOf(lostLearner)}"
                : $"the leader has not heard from learner {Known.NameOf(lostLearner)} for {SilentFor(leader, lostLearner)}");
            return;
        }
        if (voters.Where(v => v != leaderId).FirstOrDefault(v => Dead(leader, v)) is { IsSome: true } dead)
        {
            _unneededSince.Clear();
            _balancing = null;
            ReplaceVoter(leader, dead, learners);
            return;
        }
        // A learner is part of a replacement whose voter may not count as lost yet (the leader changed, or a manager
        // restarted mid-move): it is removed only once it has been unneeded for heal-after.
        foreach (ReplicaId gone in _unneededSince.Keys.Where(l => !learners.Contains(l)).ToList()) _unneededSince.Remove(gone);
        if (learners.Length > 0)
        {
            if (PromoteToBalance(leader, voters, learners[0])) return;
            _unneededSince.TryAdd(learners[0], Now);
            if (Since(_unneededSince[learners[0]]) >= _settings.HealAfter)
                Propose(leader, MembershipChangeKind.MembershipChangeRemove, learners[0], default,
                    $"learner {Known.NameOf(learners[0])} has not been needed for {_settings.HealAfter.TotalSeconds:F0} s: no voter is lost");
            return;
        }
        if (!RemoveStaleReplicas(leader) && !Balance(leader, voters)) SpreadLeadership(leader, voters);
    }

    private void ReplaceVoter(ReplicaHealth leader, ReplicaId dead, ReplicaId[] learners)
    {
        string deadNode = Known.NameOf(dead);
        if (_healing is not { } healing || healing.Dead != dead) _healing = (dead, deadNode, Now);
        string why = _forgotten.Contains(dead)
            ? $"an operator removed node {deadNode}"
            : $"the leader has not heard from voter {deadNode} for {SilentFor(leader, dead)}";
        if (learners.Length > 0)
        {
            ReplicaId learner = learners[0];
            Propose(leader, MembershipChangeKind.MembershipChangeReplaceVoter, dead, learner,
                $"{why}; learner {Known.NameOf(learner)} replaces it");
            return;
        }
        if (AddEmptyReplica(leader, $"{why}; {{0}} joins as a learner to replace it")) return;
        // A replica moved away but not yet deleted makes its node look like a host: deleting it frees that node.
        if (RemoveStaleReplicas(leader)) return;
        if (PickHost(leader) is not { } host)
        {
            LogOnce($"no-host-{dead}", "Shard {Shard}: {Why}, but no live node can take a replica of the shard", why);
            return;
        }
        SendStep(StartingReplica + host.NodeId);
        Context.ActorSelection(NodePaths.On(host.Address, NodePaths.Replicas))
            .Tell(new AddReplica { Shard = (uint)_shard, Reason = $"to replace {deadNode}: {why}" }, Self);
    }

    /// <summary>
    /// Adds as a learner an empty replica that already runs for this shard on a live node (a step before a crash or a
    /// move of this manager started it); <paramref name="reason"/> names it as {0}. False when there is none.
    /// </summary>
    private bool AddEmptyReplica(ReplicaHealth leader, string reason)
    {
        if (_replicas.FirstOrDefault(r => r.Value is { Reachable: true, Last: { } h } && IsEmpty(h)
                                          && Known.ByReplica(r.Key) is { Status: NodeReachability.Up }) is not { Value: not null } empty)
            return false;
        Propose(leader, MembershipChangeKind.MembershipChangeAddLearner, empty.Key, default, string.Format(reason, Known.NameOf(empty.Key)));
        return true;
    }

    /// <summary>
    /// With the shard settled and nothing to heal: an empty replica left by an earlier step joins as a learner when its
    /// node would take a voter's place (<see cref="PromoteToBalance"/>), and is deleted when it has waited heal-after
    /// for that; otherwise a balancing move starts when the counts call for one and the cluster-wide limit allows it.
    /// False when there is nothing to do or wait for.
    /// </summary>
    private bool Balance(ReplicaHealth leader, ReplicaId[] voters)
    {
        bool balancing = _settings.MaxConcurrentMoves > 0 && AllVotersUp(voters);
        ReplicaId[] empty = [.. _replicas.Where(r => r.Value is { Reachable: true, Last: { } h } && IsEmpty(h)).Select(r => r.Key)];
        foreach (ReplicaId gone in _emptySince.Keys.Where(id => !empty.Contains(id)).ToList()) _emptySince.Remove(gone);
        foreach (ReplicaId id in empty)
        {
            if (Known.ByReplica(id) is not { Status: NodeReachability.Up } node) continue;
            if (balancing && BalanceSource(leader, voters, node) is { } source)
            {
                Propose(leader, MembershipChangeKind.MembershipChangeAddLearner, id, default, $"{node.NodeId} joins as a learner: {MoveReason(source.Node, node)}");
                return true;
            }
            _emptySince.TryAdd(id, Now);
            if (Since(_emptySince[id]) < _settings.HealAfter) continue;
            RemoveReplica(node, id, "unneeded empty", $"it was started to join the shard, but no step has needed it for {_settings.HealAfter.TotalSeconds:F0} s");
            return true;
        }
        if (empty.Length > 0) return true;
        if (!balancing || ReplicaBalancer.Next(Known, _shard, voters.Length, _settings.MaxConcurrentMoves, _refusedHosts) is not { } move) return false;
        _balancing = (move.To.NodeId, default, "", Now);
        SendStep(StartingReplica + move.To.NodeId);
        Context.ActorSelection(NodePaths.On(move.To.Address, NodePaths.Replicas)).Tell(new AddReplica
        {
            Shard = (uint)_shard,
            Reason = MoveReason(move.From, move.To),
        }, Self);
        return true;
    }

    /// <summary>
    /// Hands the shard's leadership to another voter when the leader's node drains or leads two or more shards more
    /// than that voter's (<see cref="LeaderBalancer"/>), at most once per leader-transfer-cooldown.
    /// </summary>
    private void SpreadLeadership(ReplicaHealth leader, ReplicaId[] voters)
    {
        if (_settings.MaxConcurrentMoves == 0 || !AllVotersUp(voters) || Since(_lastTransfer) < _settings.LeaderTransferCooldown) return;
        var leaderId = new ReplicaId(leader.ReplicaId);
        KnownNode from = Known.ByReplica(leaderId)!;
        KnownNode[] others = [.. voters.Where(v => v != leaderId).Select(v => Known.ByReplica(v)!)];
        if (LeaderBalancer.Target(Known, _shard, from, others) is not { } to) return;
        TransferLeadership(leader, voters, to, from.Draining
            ? $"{from.NodeId} is draining"
            : $"{from.NodeId} leads {from.Leading.Length} shards, {to.NodeId} {to.Leading.Length}");
    }

    /// <summary>Asks the leader to hand leadership to the voter on <paramref name="to"/>.</summary>
    private void TransferLeadership(ReplicaHealth leader, ReplicaId[] voters, KnownNode to, string reason)
    {
        if (voters.FirstOrDefault(to.Owns) is not { IsSome: true } target || Known.ByReplica(new ReplicaId(leader.ReplicaId)) is not { } node) return;
        _lastTransfer = Now;
        SendStep($"hand leadership to {to.NodeId}");
        _log.Info("Shard {Shard}: asking leader {Leader} to hand leadership to {To}: {Reason}", _shard, node.NodeId, to.NodeId, reason);
        Context.ActorSelection(NodePaths.ReplicaOn(node.Address, new ReplicaAddress(_shard, new ReplicaId(leader.ReplicaId))))
            .Tell(new TransferShardLeadership { Shard = (uint)_shard, To = target.Value }, Self);
    }

    /// <summary>
    /// The learner takes the place of a voter on a draining node, or of the voter on the most loaded node (the leader last
    /// among equals, then the shard's rendezvous order, as <see cref="ReplicaBalancer"/> picks) when its own node holds
    /// fewer replicas: the end of a balancing move (<see cref="BalanceSource"/>). False when there is no such voter, or a
    /// voter's node is not up (healing decides then).
    /// </summary>
    private bool PromoteToBalance(ReplicaHealth leader, ReplicaId[] voters, ReplicaId learner)
    {
        if (_settings.MaxConcurrentMoves == 0 || !AllVotersUp(voters) || Known.ByReplica(learner) is not { Status: NodeReachability.Up } to
            || BalanceSource(leader, voters, to) is not { } voter)
            return false;
        KnownNode from = voter.Node;
        if (voter.Id.Value == leader.ReplicaId)
        {
            // Removing the leader would leave the shard leaderless for an election: hand leadership on first.
            KnownNode heir = voters.Where(v => v != voter.Id).Select(v => Known.ByReplica(v)!)
                .OrderBy(n => n.Draining).ThenBy(n => n.Leading.Length).First();
            if (Since(_lastTransfer) >= _settings.StepTimeout)
                TransferLeadership(leader, voters, heir, $"its replica on {from.NodeId} is about to move to {to.NodeId}");
            return true;
        }
        if (_balancing is not { From.IsSome: true }) _balancing = (to.NodeId, voter.Id, from.NodeId, _balancing?.Started ?? Now);
        Propose(leader, MembershipChangeKind.MembershipChangeReplaceVoter, voter.Id, learner,
            $"{MoveReason(from, to)}; learner {to.NodeId} replaces {from.NodeId}");
        return true;
    }

    /// <summary>
    /// The voter whose place a replica on <paramref name="to"/> would take: one on a draining node, else the one on the
    /// most loaded node (the leader last among equals, then the shard's rendezvous order) if that node holds more
    /// replicas than <paramref name="to"/>. None when <paramref name="to"/> is draining. Every voter's node must be known
    /// (<see cref="AllVotersUp"/>).
    /// </summary>
    private (ReplicaId Id, KnownNode Node)? BalanceSource(ReplicaHealth leader, ReplicaId[] voters, KnownNode to)
    {
        (ReplicaId Id, KnownNode Node) voter = voters.Select(v => (Id: v, Node: Known.ByReplica(v)!))
            .OrderByDescending(v => v.Node.Draining)
            .ThenByDescending(v => v.Node.Shards.Length)
            .ThenBy(v => v.Id.Value == leader.ReplicaId)
            .ThenBy(v => RendezvousPlacement.Score(_shard, v.Node.Endpoint))
            .First();
        return !to.Draining && (voter.Node.Draining || voter.Node.Shards.Length > to.Shards.Length) ? voter : null;
    }

    private bool AllVotersUp(ReplicaId[] voters) => voters.All(v => Known.ByReplica(v) is { Status: NodeReachability.Up });

    private static bool IsEmpty(ReplicaHealth h) => h.Voters.Count == 0 && h.OutgoingVoters.Count == 0 && h.Learners.Count == 0;

    /// <summary>Where a replacement goes: a live node that is no member of the shard, by the placement rule.</summary>
    private KnownNode? PickHost(ReplicaHealth leader)
    {
        HashSet<string> memberNodes = [.. Members(leader).Select(Known.ByReplica).OfType<KnownNode>().Select(n => n.NodeId)];
        return ReplicaBalancer.NewHost(Known.Nodes.Where(n => n.Status == NodeReachability.Up && !memberNodes.Contains(n.NodeId)), _shard, _refusedHosts);
    }

    private static IEnumerable<ReplicaId> Members(ReplicaHealth h) =>
        h.Voters.Concat(h.OutgoingVoters).Concat(h.Learners).Select(id => new ReplicaId(id));

    /// <summary>
    /// Tells one replica that the leader's settled membership does not name to delete itself: one that has been a member
    /// (its own membership is not empty; it may or may not know it was removed), not an empty one, which may be about
    /// to be added. False when there is none.
    /// </summary>
    private bool RemoveStaleReplicas(ReplicaHealth leader)
    {
        ReplicaId[] members = [.. Members(leader)];
        foreach ((ReplicaId id, Observed o) in _replicas)
        {
            if (members.Contains(id) || o is not { Reachable: true, Last: { } h } || IsEmpty(h) || Known.ByReplica(id) is not { } node) continue;
            RemoveReplica(node, id, "stale", $"the shard's committed membership (voters {Names(leader.Voters.Select(v => new ReplicaId(v)))}) no longer includes it");
            return true;
        }
        return false;
    }

    /// <summary>Tells <paramref name="node"/> to delete its replica <paramref name="id"/> of the shard (a <paramref name="kind"/> one).</summary>
    private void RemoveReplica(KnownNode node, ReplicaId id, string kind, string reason)
    {
        SendStep($"remove the {kind} replica on {node.NodeId}");
        Context.ActorSelection(NodePaths.On(node.Address, NodePaths.Replicas))
            .Tell(new RemoveReplica { Shard = (uint)_shard, ReplicaId = id.Value, Reason = reason }, Self);
    }

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
        // A node that refused to start a replica is not asked again; a refused removal says nothing about hosting.
        if (_stepDoing?.StartsWith(StartingReplica, StringComparison.Ordinal) == true) _refusedHosts.Add(new ReplicaId(answer.ReplicaId));
        if (_balancing is { From.IsSome: false }) _balancing = null;
        _log.Warning("Shard {Shard}: node {NodeId} refused to {Step}: {Refusal}", _shard, answer.NodeId, _stepDoing, answer.Refusal);
    }

    private void ReportHealed(ReplicaId[] voters)
    {
        if (_healing is not { } healing || voters.Contains(healing.Dead)) return;
        _log.Info("Shard {Shard}: healed in {Seconds:F1} s: {Dead} is no longer a voter; voters are now {Voters}",
            _shard, Since(healing.Started).TotalSeconds, healing.DeadNode, Names(voters));
        _healing = null;
    }

    /// <summary>The move in progress as <c>kvctl status</c> shows it, or empty.</summary>
    private string DescribeMove()
    {
        string doing = _stepSentAt == 0 || _stepDoing is null ? "" : $": {_stepDoing}";
        if (_healing is { } healing) return $"replacing {healing.DeadNode} for {Since(healing.Started).TotalSeconds:F0} s{doing}";
        if (_balancing is not { } balancing) return "";
        string from = balancing.From.IsSome ? $" in place of {balancing.FromNode}" : "";
        return $"moving a replica to {balancing.To}{from} for {Since(balancing.Started).TotalSeconds:F0} s{doing}";
    }

    private void ReportBalanced(ReplicaId[] voters)
    {
        if (_balancing is not { } balancing) return;
        if (!balancing.From.IsSome)
        {
            // Started here but never reached its promotion (refused, or the counts changed): the next decision starts afresh.
            if (Since(balancing.Started) >= _settings.HealAfter) _balancing = null;
            return;
        }
        if (voters.Contains(balancing.From)) return;
        _log.Info("Shard {Shard}: moved a replica from {From} to {To} in {Seconds:F1} s {Why}; voters are now {Voters}",
            _shard, balancing.FromNode, balancing.To, Since(balancing.Started).TotalSeconds,
            Known.ByReplica(balancing.From) is { Draining: true } ? "to drain " + balancing.FromNode : "to balance the replica counts", Names(voters));
        _balancing = null;
    }

    /// <summary>Why a replica moves from <paramref name="from"/> to <paramref name="to"/>, for the logs.</summary>
    private static string MoveReason(KnownNode from, KnownNode to) => from.Draining
        ? $"to drain {from.NodeId}, which holds {from.Shards.Length} replicas"
        : $"to balance the replica counts: {from.NodeId} holds {from.Shards.Length}, {to.NodeId} {to.Shards.Length}";

    private static string SilentFor(ReplicaHealth leader, ReplicaId id) => $"{Silence(leader, id)?.TotalSeconds ?? 0:F0} s";

    private string Names(IEnumerable<ReplicaId> ids) => string.Join(",", ids.Select(Known.NameOf));

    private void LogOnce(string key, string template, string why)
    {
        if (_loggedOnce.Add(key)) _log.Warning(template, _shard, why);
    }
}
