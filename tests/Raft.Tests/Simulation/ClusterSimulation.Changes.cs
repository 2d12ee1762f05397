using KvActors.Raft.Ids;

namespace KvActors.Raft.Tests.Simulation;

public sealed partial class ClusterSimulation
{
    /// <summary>
    /// Asks the leader for a random membership change: grow by a brand-new replica (a learner first), promote a
    /// learner, remove a member, or replace a voter by a learner. Sizes drift between one and <see cref="MaxReplicas"/>
    /// members. Replicas removed by a committed configuration are stopped for good now and then, as an operator would.
    /// </summary>
    private void ChangeMembership()
    {
        RetireOneRemoved();
        SimNode? leader = Leader();
        if (leader is null) return;
        Membership m = leader.Raft!.Membership;
        ConfigChange? change = _random.Next(4) switch
        {
            0 when m.Members.Count < MaxReplicas => ConfigChange.AddLearner(SpareOrNewNode(m).Id),
            1 when m.Learners.Count > 0 => ConfigChange.Promote(Pick(m.Learners)),
            2 when m.Members.Count > 1 && !(m.Voters.Count <= 3 && m.Learners.Count == 0 && _random.Chance(0.7)) => ConfigChange.Remove(Pick(m.Members)),
            3 when m.Learners.Count > 0 => ConfigChange.Replace(Pick(m.Voters), Pick(m.Learners)),
            _ => null,
        };
        if (change is null) return;
        ProposeResult result = leader.Raft.ProposeConfigChange(change);
        Trace.Add(StepCount, "config", leader.Id.Value, $"{change} {result.Status}");
        if (result.IsAccepted) Counters.ConfigChanges++;
    }

    private ReplicaId Pick(IReadOnlyCollection<ReplicaId> ids) => ids.ElementAt(_random.Next(ids.Count));

    /// <summary>A replica that was started but never made it into a committed membership, or a brand-new one.</summary>
    private SimNode SpareOrNewNode(Membership current) =>
        RandomNode(n => !n.IsRetired && !current.IsMember(n.Id) && !Invariants.WasEverCommittedMember(n.Id))
        ?? AddNode(Membership.Empty);

    private void RetireOneRemoved()
    {
        SimNode? removed = RandomNode(n => !n.IsRetired && Invariants.IsRemoved(n.Id));
        if (removed is null || !_random.Chance(0.3)) return;
        Trace.Add(StepCount, "retire", removed.Id.Value);
        removed.Retire();
    }

    /// <summary>A random replica snapshots its state machine at a random applied index and compacts its log up to it.</summary>
    private void SnapshotOne()
    {
        SimNode? node = RandomUpNode();
        if (node is null) return;
        LogIndex applied = node.Raft!.Status.Applied;
        LogIndex first = node.Disk.FirstIndex();
        if (applied < first) return;
        var index = new LogIndex(first.Value + (ulong)_random.Next((int)(applied.Value - first.Value) + 1));
        if (node.Raft.SnapshotMetadataAt(index) is not { } metadata) return;
        node.Disk.Compact(new Snapshot(metadata, node.Image(index)));
        Trace.Add(StepCount, "compact", node.Id.Value, metadata);
        Counters.Compactions++;
    }

    private void TransferOne()
    {
        SimNode? leader = Leader();
        if (leader is null) return;
        Membership m = leader.Raft!.Membership;
        if (m.Voters.Count < 2) return;
        ReplicaId target = Pick(m.Voters);
        TransferResult result = leader.Raft.TransferLeadership(target);
        Trace.Add(StepCount, "transfer", leader.Id.Value, $"to {target}: {result.Status}");
        if (result.IsAccepted) Counters.Transfers++;
    }
}
