using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// A cluster of Raft cores on a simulated network, every choice drawn from one seed: which message is delivered
/// (any in flight: reordering and delay), which node ticks or writes its Ready, drops, duplicates, partitions,
/// crashes that lose the write in flight, restarts, client proposals and reads, membership changes (new replicas
/// always come with a new id and an empty disk), snapshots and leader transfers. The same seed replays the same run.
/// <see cref="Invariants"/> is checked after every step.
/// </summary>
public sealed partial class ClusterSimulation
{
    private const int MaxMessagesInFlight = 4_000;
    private const int MaxReplicas = 7;          // voters and learners together, so that a run grows and shrinks

    private readonly SimRandom _random;
    private readonly FaultProfile _profile;
    private readonly List<SimNode> _nodes = [];  // index = id - 1; retired nodes stay, stopped
    private readonly List<RaftMessage> _network = [];
    private readonly List<RaftMessage> _slowLane = [];       // delayed messages: delivered rarely, so very late
    private readonly List<int> _partition = [];  // index = id - 1 → side; messages between sides are lost
    private readonly double[] _weights;
    private ulong _nextCommandId = 1;
    private ulong _nextReadId = 1;

    public ClusterSimulation(ulong seed, FaultProfile profile)
    {
        Seed = seed;
        _profile = profile;
        _random = new SimRandom(seed);
        var membership = Membership.Of(Enumerable.Range(1, profile.Nodes).Select(i => new ReplicaId((ulong)i)).ToArray());
        _weights =
        [
            profile.DeliverWeight, profile.TickWeight, profile.ReadyWeight, profile.ProposeWeight, profile.ReadWeight,
            profile.CrashWeight, profile.RestartWeight, profile.PartitionWeight, profile.HealWeight,
            profile.ConfigChangeWeight, profile.SnapshotWeight, profile.TransferWeight,
        ];
        Invariants = new SimulationInvariants(this);
        for (int i = 0; i < profile.Nodes; i++) AddNode(membership);
    }

    public ulong Seed { get; }
    public long StepCount { get; private set; }
    public SimTrace Trace { get; } = new();
    public SimulationInvariants Invariants { get; }
    public IReadOnlyList<SimNode> Nodes => _nodes;
    public FaultProfile Profile => _profile;

    /// <summary>What the run exercised, for the summary: a green run must have tested something.</summary>
    public SimCounters Counters { get; } = new();

    private SimNode AddNode(Membership membership)
    {
        var node = new SimNode(new ReplicaId((ulong)_nodes.Count + 1), membership);
        _nodes.Add(node);
        _partition.Add(0);
        node.Start(_profile, Seed);
        return node;
    }

    private SimNode NodeOf(ReplicaId id) => _nodes[(int)id.Value - 1];

    /// <summary>Runs one randomly chosen event, then checks every invariant.</summary>
    public void Step()
    {
        StepCount++;
        try
        {
            switch (Choose())
            {
                case 0: DeliverOne(); break;
                case 1: TickOne(); break;
                case 2: ReadyOne(); break;
                case 3: ProposeOne(); break;
                case 4: ReadOne(); break;
                case 5: CrashOne(); break;
                case 6: RestartOne(); break;
                case 7: Partition(); break;
                case 8: Heal(); break;
                case 9: ChangeMembership(); break;
                case 10: SnapshotOne(); break;
                default: TransferOne(); break;
            }
        }
        catch (RaftInvariantException e)
        {
            Invariants.Report($"core invariant: {e.Message}");
        }
        catch (Exception e)
        {
            Invariants.Report($"unexpected exception: {e}");
        }
        Invariants.CheckAfterStep();
    }

    private int Choose()
    {
        double total = 0;
        foreach (double w in _weights) total += w;
        double pick = _random.NextDouble() * total;
        for (int i = 0; i < _weights.Length; i++)
        {
            pick -= _weights[i];
            if (pick < 0) return i;
        }
        return 0;
    }

    private SimNode? RandomNode(Func<SimNode, bool> where)
    {
        int start = _random.Next(_nodes.Count);
        for (int i = 0; i < _nodes.Count; i++)
        {
            SimNode node = _nodes[(start + i) % _nodes.Count];
            if (where(node)) return node;
        }
        return null;
    }

    private SimNode? RandomUpNode() => RandomNode(static n => n.IsUp);

    private SimNode? Leader() => RandomNode(static n => n.Raft?.Status.Role == Role.Leader);

    /// <summary>Where a client sends: mostly a node that believes it leads (clients follow leader hints), else anyone.</summary>
    private SimNode? ClientTarget() => (_random.Chance(0.8) ? Leader() : null) ?? RandomUpNode();

    private void DeliverOne()
    {
        // Mostly any message in flight (reordering); now and then one from the slow lane, long after it was sent.
        List<RaftMessage> lane = _slowLane.Count > 0 && (_network.Count == 0 || _random.Chance(0.02)) ? _slowLane : _network;
        if (lane.Count == 0) return;
        int at = _random.Next(lane.Count);
        RaftMessage message = lane[at];
        lane[at] = lane[^1];
        lane.RemoveAt(lane.Count - 1);
        SimNode to = NodeOf(message.To);
        if (!to.IsUp || !Connected(message.From, message.To))
        {
            Trace.Add(StepCount, "lost", to.Id.Value, message);
            return;
        }
        Trace.Add(StepCount, "deliver", to.Id.Value, message);
        to.Raft!.Step(message);
    }

    private bool Connected(ReplicaId a, ReplicaId b) => _partition[(int)a.Value - 1] == _partition[(int)b.Value - 1];

    private void Send(SimNode from, RaftMessage message)
    {
        Invariants.OnSend(from, message);
        if ((int)message.To.Value > _nodes.Count) return;   // a replica that was never started
        if (_calm)
        {
            _network.Add(message);
            return;
        }
        if (_random.Chance(_profile.DropRate) || _network.Count + _slowLane.Count >= MaxMessagesInFlight)
        {
            Trace.Add(StepCount, "drop", message.From.Value, message);
            return;
        }
        List<RaftMessage> lane = _random.Chance(_profile.DelayRate) ? _slowLane : _network;
        lane.Add(message);
        if (_random.Chance(_profile.DuplicateRate)) lane.Add(message);
    }

    private void TickOne()
    {
        SimNode? node = RandomUpNode();
        if (node is null) return;
        node.Raft!.Tick();
        Trace.Add(StepCount, "tick", node.Id.Value, node.Raft.Status.Role);
    }

    /// <summary>Either starts writing the node's Ready, or finishes the write in flight and does the rest of it.</summary>
    private void ReadyOne()
    {
        SimNode? node = RandomUpNode();
        if (node is null) return;
        if (node.Writing is null)
        {
            if (!node.Raft!.HasReady()) return;
            node.Writing = node.Raft.Ready();
            Trace.Add(StepCount, "ready", node.Id.Value, node.Writing);
            // A leader's replication leaves as its write starts; it is on the wire even if the node crashes mid-write.
            foreach (RaftMessage message in node.Writing.MessagesBeforeWrite) Send(node, message);
            return;
        }
        CompleteWrite(node);
    }

    private void CompleteWrite(SimNode node)
    {
        Ready ready = node.Writing!;
        node.Writing = null;
        // 1. durable
        if (ready.Snapshot is { } snapshot)
        {
            node.Disk.ApplySnapshot(snapshot);
            node.RestoreStateMachine(snapshot);
            Invariants.OnSnapshotRestored(node, snapshot);
            Counters.SnapshotsRestored++;
        }
        if (ready.HardState is { } hardState)
        {
            Invariants.OnHardStateWrite(node, hardState);
            node.Disk.SetHardState(hardState);
        }
        if (ready.Entries.Count > 0)
        {
            node.Disk.Append(ready.Entries);
            Invariants.OnEntriesWritten(node, ready.Entries);
        }
        Trace.Add(StepCount, "written", node.Id.Value, ready);
        // 2. only now may what it promised leave
        foreach (RaftMessage message in ready.Messages) Send(node, message);
        // 3. apply, answer clients, serve reads
        foreach (Entry entry in ready.CommittedEntries) Apply(node, entry);
        foreach (ReadState read in ready.ReadStates) node.ConfirmedReads.Add((read.Context, read.Index));
        foreach (ReadContext aborted in ready.AbortedReads) Invariants.OnReadAborted(aborted);
        ServeReads(node);
        // 4.
        node.Raft!.Advance(ready);
    }

    private void Apply(SimNode node, Entry entry)
    {
        Invariants.OnApply(node, entry);
        ulong commandId = SimNode.CommandIdOf(entry);
        node.Applied.Add(commandId);
        if (node.PendingProposals.Remove(entry.Id, out ulong proposed))
        {
            if (proposed != commandId)
                Invariants.Report($"node {node.Id} applied command {commandId} under entry {entry.Id}, which it had accepted for command {proposed}");
            Invariants.OnWriteAcknowledged(node, entry.Index, commandId);
        }
    }

    private void ServeReads(SimNode node)
    {
        for (int i = node.ConfirmedReads.Count - 1; i >= 0; i--)
        {
            (ReadContext context, LogIndex index) = node.ConfirmedReads[i];
            if (node.AppliedIndex < index) continue;
            node.ConfirmedReads.RemoveAt(i);
            Invariants.OnReadServed(node, context, index, node.AppliedIndex);
        }
    }

    private void ProposeOne()
    {
        SimNode? node = ClientTarget();
        if (node is null) return;
        ulong commandId = _nextCommandId++;
        ProposeResult result = node.Raft!.Propose(SimNode.Command(commandId));
        Trace.Add(StepCount, "propose", node.Id.Value, $"cmd={commandId} {result}");
        if (result.IsAccepted) node.PendingProposals[result.Entry] = commandId;
        else if (result.Status == RequestStatus.TooBusy) Counters.TooBusy++;
    }

    private void ReadOne()
    {
        SimNode? node = ClientTarget();
        if (node is null) return;
        var context = new ReadContext(_nextReadId++);
        ReadIndexResult result = node.Raft!.ReadIndex(context);
        Trace.Add(StepCount, "read", node.Id.Value, $"ctx={context} {result.Status}");
        if (result.IsAccepted) Invariants.OnReadIssued(context);
    }

    private void CrashOne()
    {
        // Half the time the leader: its crash is what loses uncommitted entries and forces the hard elections.
        SimNode? node = (_random.Chance(0.5) ? Leader() : null) ?? RandomUpNode();
        if (node is null) return;
        Trace.Add(StepCount, "crash", node.Id.Value, node.Writing is null ? null : "losing " + node.Writing);
        node.Crash();
        Counters.Crashes++;
    }

    private void RestartOne()
    {
        SimNode? node = RandomNode(static n => !n.IsUp && !n.IsRetired);
        if (node is null) return;
        node.Start(_profile, Seed);
        Trace.Add(StepCount, "restart", node.Id.Value, node.Raft!.Status);
    }

    private void Partition()
    {
        // Either isolate one node — half the time the leader, which then believes it leads while the others elect
        // another: the window in which stale reads and lost writes would show — or split the cluster in two at random.
        if (_random.Chance(0.5))
        {
            for (int i = 0; i < _partition.Count; i++) _partition[i] = 0;
            SimNode? target = _random.Chance(0.5) ? Leader() : null;
            _partition[target is null ? _random.Next(_partition.Count) : (int)target.Id.Value - 1] = 1;
        }
        else
        {
            for (int i = 0; i < _partition.Count; i++) _partition[i] = _random.Next(2);
        }
        Trace.Add(StepCount, "partition", 0, string.Join("", _partition));
    }

    private void Heal()
    {
        if (_partition.TrueForAll(side => side == 0)) return;
        for (int i = 0; i < _partition.Count; i++) _partition[i] = 0;
        Trace.Add(StepCount, "heal", 0);
    }
}
