using KvActors.Raft.Messages;

namespace KvActors.Raft.Tests.Simulation;

public sealed partial class ClusterSimulation
{
    // Enough to catch up the longest log one entry per round trip (MaxAppendEntries and MaxInflightAppends can be 1).
    private const int MaxQuietRounds = 50_000;

    private bool _calm;

    /// <summary>
    /// Heals the network, restarts every crashed node and stops injecting faults, then requires that within
    /// <paramref name="maxTicks"/> ticks a leader is elected and a new command commits and is applied on every member
    /// of the leader's configuration. A failure is reported to <see cref="Invariants"/> as a liveness violation.
    /// Replicas that were removed but not yet stopped keep running: they must not get in the way.
    /// </summary>
    public void HealAndRequireProgress(int maxTicks)
    {
        _calm = true;
        for (int i = 0; i < _partition.Count; i++) _partition[i] = 0;
        _network.AddRange(_slowLane);      // late, but they still arrive
        _slowLane.Clear();
        Trace.Add(StepCount, "liveness phase", 0);
        foreach (SimNode node in _nodes)
        {
            if (!node.IsUp && !node.IsRetired) node.Start(_profile, Seed);
        }
        ulong marker = _nextCommandId++;
        try
        {
            for (int tick = 0; tick < maxTicks; tick++)
            {
                foreach (SimNode node in _nodes) node.Raft?.Tick();
                RunUntilQuiet();
                if (Invariants.FirstViolation is not null) return;
                // The leader of the newest term: without CheckQuorum, a leader cut off before its own removal
                // committed never hears that it is deposed (its successor no longer sends to it) and stays a stale
                // "leader" of an older term, unable to commit. Clients would time out on it and move on.
                SimNode? leader = null;
                foreach (SimNode n in _nodes)
                {
                    if (n.Raft?.Status is { Role: Role.Leader } s && (leader is null || s.Term > leader.Raft!.Status.Term)) leader = n;
                }
                if (leader is null) continue;
                Membership members = leader.Raft!.Membership;
                if (!members.IsJoint && _nodes.TrueForAll(n => !members.IsMember(n.Id) || n.Applied.Contains(marker))) return;
                if (!leader.PendingProposals.ContainsValue(marker) && !leader.Applied.Contains(marker))
                {
                    ProposeResult result = leader.Raft.Propose(SimNode.Command(marker));
                    if (result.IsAccepted) leader.PendingProposals[result.Entry] = marker;
                }
            }
        }
        catch (RaftInvariantException e)
        {
            Invariants.Report($"core invariant: {e.Message}");
            return;
        }
        catch (Exception e)
        {
            Invariants.Report($"unexpected exception: {e}");
            return;
        }
        string states = string.Join("; ", _nodes.Where(n => n.IsUp).Select(n => $"{n.Id}: {n.Raft!.Status} {n.Raft.Membership}"));
        Invariants.Report($"liveness: no new command committed on every member within {maxTicks} ticks of healing ({states})");
    }

    /// <summary>Delivers every message and does every node's Ready until nothing is left (bounded).</summary>
    private void RunUntilQuiet()
    {
        for (int round = 0; round < MaxQuietRounds; round++)
        {
            bool busy = false;
            while (_network.Count > 0)
            {
                busy = true;
                RaftMessage message = _network[0];
                _network.RemoveAt(0);
                SimNode to = NodeOf(message.To);
                if (!to.IsUp) continue;
                Trace.Add(StepCount, "deliver", to.Id.Value, message);
                to.Raft!.Step(message);
                Invariants.CheckAfterStep();
            }
            foreach (SimNode node in _nodes)
            {
                if (!node.IsUp) continue;
                if (node.Writing is not null || node.Raft!.HasReady())
                {
                    busy = true;
                    if (node.Writing is null)
                    {
                        node.Writing = node.Raft!.Ready();
                        foreach (RaftMessage message in node.Writing.MessagesBeforeWrite) Send(node, message);
                    }
                    CompleteWrite(node);
                    Invariants.CheckAfterStep();
                }
            }
            if (!busy) return;
        }
        Invariants.Report($"liveness: the cluster never went quiet after {MaxQuietRounds} rounds of delivery");
    }
}
