using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// A cluster of Raft cores on a simulated network, every choice drawn from one seed: which message is delivered
/// (any in flight: reordering and delay), which node ticks or writes its Ready, drops, duplicates, partitions,
/// crashes that lose the write in flight, restarts, client proposals and reads. The same seed replays the same run.
/// <see cref="Invariants"/> is checked after every step.
/// </summary>
public sealed partial class ClusterSimulation
{
    private const int MaxMessagesInFlight = 4_000;

    private readonly SimRandom _random;
    private readonly FaultProfile _profile;
    private readonly SimNode[] _nodes;
    private readonly List<RaftMessage> _network = [];
    private readonly List<RaftMessage> _slowLane = [];       // delayed messages: delivered rarely, so very late
    private readonly int[] _partition;           // node offset → side; messages between sides are lost
    private readonly double[] _weights;
    private ulong _nextCommandId = 1;
    private ulong _nextReadId = 1;

    public ClusterSimulation(ulong seed, FaultProfile profile)
    {
        Seed = seed;
        _profile = profile;
        _random = new SimRandom(seed);
        var membership = Membership.Of(Enumerable.Range(1, profile.Nodes).Select(i => new ReplicaId((ulong)i)).ToArray());
        _nodes = membership.Voters.Select(id => new SimNode(id, membership)).ToArray();
        _partition = new int[_nodes.Length];
        _weights =
        [
            profile.DeliverWeight, profile.TickWeight, profile.ReadyWeight, profile.ProposeWeight, profile.ReadWeight,
            profile.CrashWeight, profile.RestartWeight, profile.PartitionWeight, profile.HealWeight,
        ];
        Invariants = new SimulationInvariants(this);
        foreach (SimNode node in _nodes) node.Start(profile, seed);
    }

    public ulong Seed { get; }
    public long StepCount { get; private set; }
    public SimTrace Trace { get; } = new();
    public SimulationInvariants Invariants { get; }
    public IReadOnlyList<SimNode> Nodes => _nodes;
    public FaultProfile Profile => _profile;

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
                default: Heal(); break;
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

    private SimNode RandomNode() => _nodes[_random.Next(_nodes.Length)];

    private SimNode? RandomUpNode()
    {
        int start = _random.Next(_nodes.Length);
        for (int i = 0; i < _nodes.Length; i++)
        {
            SimNode node = _nodes[(start + i) % _nodes.Length];
            if (node.IsUp) return node;
        }
        return null;
    }

    /// <summary>Where a client sends: mostly a node that believes it leads (clients follow leader hints), else anyone.</summary>
    private SimNode? ClientTarget()
    {
        if (_random.Chance(0.8))
        {
            int start = _random.Next(_nodes.Length);
            for (int i = 0; i < _nodes.Length; i++)
            {
                SimNode node = _nodes[(start + i) % _nodes.Length];
                if (node.Raft?.Status.Role == Role.Leader) return node;
            }
        }
        return RandomUpNode();
    }

    private void DeliverOne()
    {
        // Mostly any message in flight (reordering); now and then one from the slow lane, long after it was sent.
        List<RaftMessage> lane = _slowLane.Count > 0 && (_network.Count == 0 || _random.Chance(0.02)) ? _slowLane : _network;
        if (lane.Count == 0) return;
        int at = _random.Next(lane.Count);
        RaftMessage message = lane[at];
        lane[at] = lane[^1];
        lane.RemoveAt(lane.Count - 1);
        SimNode to = _nodes[(int)message.To.Value - 1];
        if (!to.IsUp || !Connected(message.From, message.To))
        {
            Trace.Add(StepCount, "lost", to.Id.Value, message);
            return;
        }
        Trace.Add(StepCount, "deliver", to.Id.Value, message);
        to.Raft!.Step(message);
    }

    private bool Connected(ReplicaId a, ReplicaId b) => _partition[(int)a.Value - 1] == _partition[(int)b.Value - 1];

    private void Send(RaftMessage message)
    {
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
            return;
        }
        CompleteWrite(node);
    }

    private void CompleteWrite(SimNode node)
    {
        Ready ready = node.Writing!;
        node.Writing = null;
        // 1. durable
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
        foreach (RaftMessage message in ready.Messages) Send(message);
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
        SimNode node = _random.Chance(0.5) ? Array.Find(_nodes, n => n.Raft?.Status.Role == Role.Leader) ?? RandomNode() : RandomNode();
        if (!node.IsUp) return;
        Trace.Add(StepCount, "crash", node.Id.Value, node.Writing is null ? null : "losing " + node.Writing);
        node.Crash();
    }

    private void RestartOne()
    {
        SimNode node = RandomNode();
        if (node.IsUp) return;
        node.Start(_profile, Seed);
        Trace.Add(StepCount, "restart", node.Id.Value, node.Raft!.Status);
    }

    private void Partition()
    {
        // Either isolate one node or split the cluster in two at random.
        if (_random.Chance(0.5))
        {
            Array.Fill(_partition, 0);
            _partition[_random.Next(_nodes.Length)] = 1;
        }
        else
        {
            for (int i = 0; i < _partition.Length; i++) _partition[i] = _random.Next(2);
        }
        Trace.Add(StepCount, "partition", 0, string.Join("", _partition));
    }

    private void Heal()
    {
        if (Array.TrueForAll(_partition, side => side == 0)) return;
        Array.Fill(_partition, 0);
        Trace.Add(StepCount, "heal", 0);
    }
}
