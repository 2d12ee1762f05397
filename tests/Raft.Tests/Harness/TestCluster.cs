using System.Collections.Immutable;
using System.Text;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Raft.Tests.Harness;

/// <summary>
/// N replicas with ids 1..N on a deterministic in-memory network (etcd's <c>newNetwork</c>). Each replica has its own
/// <see cref="MemoryRaftStorage"/> and plays the shell's part of the <see cref="Ready"/> contract exactly: write the
/// hard state and entries, then send the messages, then apply, then <see cref="RaftNode.Advance"/>. Nothing runs
/// unless a test asks: <see cref="Stabilize"/> delivers until nothing is left to do; ticks happen only through
/// <see cref="Tick"/>, <see cref="TickAll"/> and <see cref="Campaign"/>. Messages are delivered in the order they were
/// sent, unless a link is cut (<see cref="Isolate"/>, <see cref="Cut"/>), the target is down, <see cref="DropIf"/>
/// says to lose them, or <see cref="HoldIf"/> says to keep them back until <see cref="ReleaseHeld"/>.
/// <para>
/// The state machine of each replica is the list of entries it applied (<see cref="Applied"/>); a snapshot's image is
/// that list encoded (<see cref="StateMachineImage"/>). <see cref="Compact"/> snapshots a replica the way a shell
/// would, a <see cref="Ready.Snapshot"/> is written with <see cref="MemoryRaftStorage.ApplySnapshot"/> and restores
/// the state machine, and <see cref="AddReplica"/> starts a brand-new replica with an empty disk.
/// </para>
/// </summary>
public sealed class TestCluster
{
    /// <summary>The election timeout every replica is configured with, in ticks.</summary>
    public const int ElectionTimeoutTicks = 10;

    /// <summary>
    /// Replica i is seeded with i × this. Not with i itself: the core mixes the seed with the id by XOR, so seed = id
    /// (or id + c) gives every replica the same election timeouts and elections split forever (reported, and pinned
    /// by <c>ElectionTests.Replicas_seeded_with_their_own_ids_draw_different_election_timeouts</c>).
    /// </summary>
    public const ulong SeedMultiplier = 7919;

    private const int MaxStabilizeRounds = 10_000;

    private readonly SortedDictionary<ReplicaId, Replica> _replicas = [];
    private readonly Queue<RaftMessage> _network = new();
    private readonly HashSet<(ReplicaId, ReplicaId)> _cuts = [];
    private readonly HashSet<ReplicaId> _frozen = [];
    private readonly List<RaftMessage> _sent = [];
    private readonly List<RaftMessage> _delivered = [];
    private readonly List<RaftMessage> _held = [];
    private readonly bool _preVote;
    private readonly bool _checkQuorum;
    private readonly Func<RaftConfig, RaftConfig>? _configure;

    /// <summary>
    /// Builds the cluster. Every replica starts from its own storage, which <paramref name="preload"/> may fill first
    /// (see <see cref="WriteLog"/>); <paramref name="configure"/> may change any replica's config (it sees the Id).
    /// </summary>
    public TestCluster(int size, bool preVote = false, bool checkQuorum = false,
        Func<RaftConfig, RaftConfig>? configure = null, Action<ReplicaId, MemoryRaftStorage>? preload = null)
    {
        _preVote = preVote;
        _checkQuorum = checkQuorum;
        _configure = configure;
        ReplicaId[] ids = Enumerable.Range(1, size).Select(i => new ReplicaId((ulong)i)).ToArray();
        Membership membership = Membership.Of(ids);
        foreach (ReplicaId id in ids)
        {
            var storage = new MemoryRaftStorage(membership);
            preload?.Invoke(id, storage);
            Start(id, storage);
        }
    }

    /// <summary>The replicas' ids: 1..N, then those added with <see cref="AddReplica"/>.</summary>
    public IReadOnlyList<ReplicaId> Ids => _replicas.Keys.ToArray();

    /// <summary>
    /// Starts a brand-new replica <paramref name="id"/> with an empty disk (<see cref="Membership.Empty"/>), as an
    /// operator does before proposing <see cref="ConfigChange.AddLearner"/> for it. It is configured like the others.
    /// </summary>
    public RaftNode AddReplica(ulong id)
    {
        var replicaId = new ReplicaId(id);
        if (_replicas.ContainsKey(replicaId)) throw new ArgumentException($"replica {id} already exists", nameof(id));
        return Start(replicaId, new MemoryRaftStorage(Membership.Empty)).Node;
    }

    private Replica Start(ReplicaId id, MemoryRaftStorage storage)
    {
        var config = new RaftConfig
        {
            Id = id,
            ElectionTimeoutTicks = ElectionTimeoutTicks,
            HeartbeatIntervalTicks = 1,
            RandomSeed = id.Value * SeedMultiplier,
            PreVote = _preVote,
            CheckQuorum = _checkQuorum,
        };
        if (_configure is not null) config = _configure(config);
        var replica = new Replica(config, storage);
        replica.Node = new RaftNode(config, storage);
        replica.Commits.Add(storage.HardState.Commit);
        _replicas[id] = replica;
        return replica;
    }

    /// <summary>Lost messages: return true to drop one (checked when it would be delivered). Null drops nothing.</summary>
    public Func<RaftMessage, bool>? DropIf { get; set; }

    /// <summary>
    /// Delayed messages: return true to keep one back (checked when it would be delivered, after <see cref="DropIf"/>)
    /// until <see cref="ReleaseHeld"/>. Null holds nothing.
    /// </summary>
    public Func<RaftMessage, bool>? HoldIf { get; set; }

    /// <summary>The messages <see cref="HoldIf"/> kept back and not yet released, oldest first.</summary>
    public IReadOnlyList<RaftMessage> Held => _held;

    /// <summary>Puts the held messages back on the network, oldest first (they are delivered by the next <see cref="Stabilize"/>).</summary>
    public void ReleaseHeld()
    {
        foreach (RaftMessage message in _held) _network.Enqueue(message);
        _held.Clear();
    }

    /// <summary>Every message a replica sent since the cluster was built (or <see cref="ClearMessageLog"/>), dropped or not.</summary>
    public IReadOnlyList<RaftMessage> Sent => _sent;

    /// <summary>Every message stepped into a replica since the cluster was built (or <see cref="ClearMessageLog"/>).</summary>
    public IReadOnlyList<RaftMessage> Delivered => _delivered;

    /// <summary>Forgets <see cref="Sent"/> and <see cref="Delivered"/>, to count what happens next.</summary>
    public void ClearMessageLog()
    {
        _sent.Clear();
        _delivered.Clear();
    }

    /// <summary>The core of replica <paramref name="id"/> (its current incarnation).</summary>
    public RaftNode Node(ulong id) => Get(id).Node;

    /// <summary>What replica <paramref name="id"/> has written durably.</summary>
    public MemoryRaftStorage Storage(ulong id) => Get(id).Storage;

    /// <summary>Replica <paramref name="id"/>'s status now.</summary>
    public RaftStatus Status(ulong id) => Get(id).Node.Status;

    /// <summary>The entries replica <paramref name="id"/>'s state machine applied, in order (across restarts).</summary>
    public IReadOnlyList<Entry> Applied(ulong id) => Get(id).Applied;

    /// <summary>The reads replica <paramref name="id"/> was told are safe, in order.</summary>
    public IReadOnlyList<ReadState> ReadStates(ulong id) => Get(id).ReadStates;

    /// <summary>The reads replica <paramref name="id"/> was told to fail.</summary>
    public IReadOnlyList<ReadContext> AbortedReads(ulong id) => Get(id).AbortedReads;

    /// <summary>Every commit index replica <paramref name="id"/> wrote durably, oldest first (starting with the initial one).</summary>
    public IReadOnlyList<LogIndex> CommitHistory(ulong id) => Get(id).Commits;

    /// <summary>The entries replica <paramref name="id"/> holds durably, from its first stored index (1 until it compacts).</summary>
    public IReadOnlyList<Entry> StoredLog(ulong id)
    {
        MemoryRaftStorage storage = Storage(id);
        var entries = new List<Entry>();
        for (LogIndex i = storage.FirstIndex(); i <= storage.LastIndex(); i = i.Next()) entries.Add(storage.EntryAt(i));
        return entries;
    }

    /// <summary>The terms of the entries replica <paramref name="id"/> holds durably (see <see cref="StoredLog"/>).</summary>
    public ulong[] StoredTerms(ulong id) => StoredLog(id).Select(e => e.Term.Value).ToArray();

    /// <summary>The live replica that leads the highest term, or <see cref="ReplicaId.None"/>.</summary>
    public ReplicaId Leader =>
        _replicas.Values.Where(r => !r.Down && r.Node.Status.Role == Role.Leader)
            .OrderByDescending(r => r.Node.Status.Term.Value)
            .Select(r => r.Config.Id)
            .FirstOrDefault();

    // ---- the network ----

    /// <summary>Cuts every link to and from <paramref name="id"/>.</summary>
    public void Isolate(ulong id)
    {
        foreach (ReplicaId other in Ids)
            if (other.Value != id) Cut(id, other.Value);
    }

    /// <summary>Cuts the link between <paramref name="a"/> and <paramref name="b"/>, both ways.</summary>
    public void Cut(ulong a, ulong b)
    {
        _cuts.Add((new ReplicaId(a), new ReplicaId(b)));
        _cuts.Add((new ReplicaId(b), new ReplicaId(a)));
    }

    /// <summary>Restores every link (leaves <see cref="DropIf"/> as it is).</summary>
    public void Heal() => _cuts.Clear();

    /// <summary>Puts <paramref name="message"/> on the network, as if its sender had sent it.</summary>
    public void Send(RaftMessage message)
    {
        _sent.Add(message);
        _network.Enqueue(message);
    }

    /// <summary>
    /// Until nothing is left to do: every live replica with work handles its Ready (in id order), then every message
    /// on the network is delivered or dropped. Fails after <c>10,000</c> rounds (a livelock).
    /// </summary>
    public void Stabilize()
    {
        for (int round = 0; round < MaxStabilizeRounds; round++)
        {
            bool busy = false;
            foreach (Replica replica in _replicas.Values)
            {
                if (replica.Down || replica.Outstanding is not null || !replica.Node.HasReady()) continue;
                busy = true;
                Complete(replica.Config.Id.Value, TakeReady(replica.Config.Id.Value));
            }
            while (_network.TryDequeue(out RaftMessage? message))
            {
                busy = true;
                Deliver(message);
            }
            if (!busy) return;
        }
        throw new InvalidOperationException($"the cluster did not stabilize within {MaxStabilizeRounds} rounds");
    }

    private void Deliver(RaftMessage message)
    {
        if (!_replicas.TryGetValue(message.To, out Replica? target) || target.Down) return;
        if (_cuts.Contains((message.From, message.To))) return;
        if (DropIf?.Invoke(message) == true) return;
        if (HoldIf?.Invoke(message) == true)
        {
            _held.Add(message);
            return;
        }
        _delivered.Add(message);
        target.Node.Step(message);
    }

    // ---- time ----

    /// <summary>Ticks replica <paramref name="id"/> alone, <paramref name="times"/> times, without delivering anything.</summary>
    public void Tick(ulong id, int times = 1)
    {
        for (int i = 0; i < times; i++) Node(id).Tick();
    }

    /// <summary>
    /// Stops replica <paramref name="id"/>'s clock, as in a long GC pause: <see cref="TickAll"/> skips it until
    /// <see cref="Thaw"/>. Messages still reach it (cut its links too to pause it entirely).
    /// </summary>
    public void Freeze(ulong id) => _frozen.Add(new ReplicaId(id));

    /// <summary>Restarts replica <paramref name="id"/>'s clock.</summary>
    public void Thaw(ulong id) => _frozen.Remove(new ReplicaId(id));

    /// <summary><paramref name="ticks"/> times: tick every live, unfrozen replica once (in id order), then <see cref="Stabilize"/>.</summary>
    public void TickAll(int ticks = 1)
    {
        for (int t = 0; t < ticks; t++)
        {
            foreach (Replica replica in _replicas.Values)
                if (!replica.Down && !_frozen.Contains(replica.Config.Id)) replica.Node.Tick();
            Stabilize();
        }
    }

    /// <summary>
    /// Ticks the whole cluster (<see cref="TickAll"/>) until <see cref="Leader"/> is some replica that
    /// <paramref name="accept"/> accepts (any by default); returns it. Fails after <paramref name="maxTicks"/>.
    /// </summary>
    public ReplicaId TickUntilLeader(Func<ReplicaId, bool>? accept = null, int maxTicks = 20 * ElectionTimeoutTicks)
    {
        for (int t = 0; t < maxTicks; t++)
        {
            ReplicaId leader = Leader;
            if (leader.IsSome && (accept is null || accept(leader))) return leader;
            TickAll(1);
        }
        throw new InvalidOperationException($"no acceptable leader within {maxTicks} ticks; leader now: {Leader}");
    }

    /// <summary>
    /// Ticks replica <paramref name="id"/> alone until it starts a (pre-)election, and leaves that work undelivered.
    /// The replica must have nothing pending and must not lead. Fails if no election starts within 2 × the timeout.
    /// </summary>
    public void TickUntilCampaign(ulong id)
    {
        RaftNode node = Node(id);
        if (node.Status.Role == Role.Leader) throw new InvalidOperationException($"replica {id} leads; it does not campaign");
        if (node.HasReady()) throw new InvalidOperationException($"replica {id} has work pending; stabilize first");
        for (int i = 0; i < 2 * ElectionTimeoutTicks; i++)
        {
            node.Tick();
            if (node.HasReady() && node.Status.Role != Role.Follower) return;
        }
        throw new InvalidOperationException($"replica {id} did not campaign within {2 * ElectionTimeoutTicks} ticks");
    }

    /// <summary>Lets replica <paramref name="id"/> time out and campaign once, then stabilizes.</summary>
    public void Campaign(ulong id)
    {
        Stabilize();
        TickUntilCampaign(id);
        Stabilize();
    }

    /// <summary>Campaigns with replica <paramref name="id"/> until it leads (at most 10 elections); returns its term.</summary>
    public Term Elect(ulong id)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            Campaign(id);
            if (Status(id).Role == Role.Leader) return Status(id).Term;
        }
        throw new InvalidOperationException($"replica {id} did not win an election in 10 attempts: {Status(id)}");
    }

    // ---- clients ----

    /// <summary>Proposes <paramref name="command"/> (UTF-8) on replica <paramref name="id"/>.</summary>
    public ProposeResult Propose(ulong id, string command) => Node(id).Propose(Encoding.UTF8.GetBytes(command));

    /// <summary>Proposes <paramref name="command"/> on replica <paramref name="id"/>.</summary>
    public ProposeResult Propose(ulong id, ReadOnlyMemory<byte> command) => Node(id).Propose(command);

    /// <summary>The UTF-8 command an entry carries.</summary>
    public static string CommandOf(Entry entry) => Encoding.UTF8.GetString(entry.Data.Span);

    // ---- the shell, step by step ----

    /// <summary>Takes replica <paramref name="id"/>'s Ready without doing any of it, to inspect it.</summary>
    public Ready TakeReady(ulong id)
    {
        Replica replica = Get(id);
        Ready ready = replica.Node.Ready();
        replica.Outstanding = ready;
        return ready;
    }

    /// <summary>
    /// Does what <paramref name="ready"/> asks, in the contract's order: writes the snapshot, the hard state and the
    /// entries, sends the messages (unless <paramref name="send"/> is false: then they are lost), restores the state
    /// machine from the snapshot, applies, records reads, advances.
    /// </summary>
    public void Complete(ulong id, Ready ready, bool send = true)
    {
        Replica replica = Get(id);
        if (!ReferenceEquals(replica.Outstanding, ready))
            throw new InvalidOperationException($"replica {id}: that Ready is not the one taken");
        if (ready.Snapshot is { } snapshot) replica.Storage.ApplySnapshot(snapshot);
        replica.Storage.Append(ready.Entries);
        if (ready.HardState is { } hardState)
        {
            replica.Storage.SetHardState(hardState);
            replica.Commits.Add(hardState.Commit);
        }
        // The step-by-step shell sends a leader's early messages with the rest: tests that need them apart take the Ready.
        foreach (RaftMessage message in ready.MessagesBeforeWrite.Concat(ready.Messages))
        {
            if (message.From != replica.Config.Id)
                throw new InvalidOperationException($"replica {id} sent a message from {message.From}: {message}");
            _sent.Add(message);
            if (send) _network.Enqueue(message);
        }
        if (ready.Snapshot is { } restored) replica.RestoreStateMachine(restored);
        foreach (Entry entry in ready.CommittedEntries)
        {
            LogIndex expected = replica.AppliedIndex.Next();
            if (entry.Index != expected)
                throw new InvalidOperationException($"replica {id} was asked to apply {entry.Id} but expected index {expected}");
            replica.Applied.Add(entry);
            replica.AppliedIndex = entry.Index;
        }
        replica.ReadStates.AddRange(ready.ReadStates);
        replica.AbortedReads.AddRange(ready.AbortedReads);
        replica.Outstanding = null;
        replica.Node.Advance(ready);
    }

    /// <summary>Takes replica <paramref name="id"/>'s Ready, does it all (see <see cref="Complete"/>), and returns it.</summary>
    public Ready ProcessReady(ulong id, bool send = true)
    {
        Ready ready = TakeReady(id);
        Complete(id, ready, send);
        return ready;
    }

    // ---- crashes ----

    /// <summary>
    /// Replica <paramref name="id"/> stops: what it had not written is lost (a Ready taken but not completed
    /// included), and messages to it are dropped until it restarts.
    /// </summary>
    public void Crash(ulong id)
    {
        Replica replica = Get(id);
        replica.Down = true;
        replica.Outstanding = null;
    }

    /// <summary>Restarts replica <paramref name="id"/> from its storage; its state machine kept what it applied.</summary>
    public void Restart(ulong id)
    {
        Replica replica = Get(id);
        replica.Node = new RaftNode(replica.Config with { Applied = replica.AppliedIndex }, replica.Storage);
        replica.Outstanding = null;
        replica.Down = false;
    }

    /// <summary>
    /// Restarts replica <paramref name="id"/> as a process that lost its in-memory state machine: it is rebuilt from
    /// the disk's snapshot, and the core hands out the committed entries after it again.
    /// </summary>
    public void RestartFromDisk(ulong id)
    {
        Replica replica = Get(id);
        Snapshot snapshot = replica.Storage.Snapshot();
        replica.RestoreStateMachine(snapshot);
        replica.Node = new RaftNode(replica.Config with { Applied = snapshot.Metadata.Last.Index }, replica.Storage);
        replica.Outstanding = null;
        replica.Down = false;
    }

    // ---- snapshots ----

    /// <summary>
    /// Snapshots replica <paramref name="id"/>'s state machine at applied index <paramref name="index"/> and compacts
    /// its log up to it, as a shell does: metadata from <see cref="RaftNode.SnapshotMetadataAt"/>, image from the
    /// state machine, then <see cref="MemoryRaftStorage.Compact"/>. Returns the snapshot kept.
    /// </summary>
    public Snapshot Compact(ulong id, ulong index)
    {
        Replica replica = Get(id);
        var at = new LogIndex(index);
        SnapshotMetadata metadata = replica.Node.SnapshotMetadataAt(at)
            ?? throw new InvalidOperationException($"replica {id} cannot snapshot at {index}: {replica.Node.Status}");
        var snapshot = new Snapshot(metadata, StateMachineImage.Encode(replica.Applied.Take(checked((int)index))));
        replica.Storage.Compact(snapshot);
        return snapshot;
    }

    /// <summary>Compacts replica <paramref name="id"/> at everything it has applied (see <see cref="Compact"/>).</summary>
    public Snapshot CompactAll(ulong id) => Compact(id, Status(id).Applied.Value);

    // ---- storage ----

    /// <summary>
    /// Fills an empty storage as if the replica had run before: entries at 1, 2, … with the given terms (each carries
    /// the command <c>"t{term}i{index}"</c>), then the hard state (term, vote, commit).
    /// </summary>
    public static void WriteLog(MemoryRaftStorage storage, ulong term, ulong vote, ulong commit, params ulong[] entryTerms)
    {
        var entries = new Entry[entryTerms.Length];
        for (int i = 0; i < entryTerms.Length; i++)
        {
            ulong index = (ulong)i + 1;
            entries[i] = new Entry(new EntryId(new Term(entryTerms[i]), new LogIndex(index)), EntryKind.Command,
                Encoding.UTF8.GetBytes($"t{entryTerms[i]}i{index}"));
        }
        storage.Append(entries);
        storage.SetHardState(new HardState(new Term(term), new ReplicaId(vote), new LogIndex(commit)));
    }

    /// <summary>An append as leader <paramref name="from"/> would send it, carrying entries with the given terms after <paramref name="prev"/>.</summary>
    public static AppendRequest Append(ulong from, ulong to, ulong term, EntryId prev, ulong commit, params ulong[] entryTerms)
    {
        var entries = ImmutableArray.CreateBuilder<Entry>(entryTerms.Length);
        for (int i = 0; i < entryTerms.Length; i++)
        {
            ulong index = prev.Index.Value + (ulong)i + 1;
            entries.Add(new Entry(new EntryId(new Term(entryTerms[i]), new LogIndex(index)), EntryKind.Command,
                Encoding.UTF8.GetBytes($"t{entryTerms[i]}i{index}")));
        }
        return new AppendRequest(new ReplicaId(from), new ReplicaId(to), new Term(term), prev, entries.MoveToImmutable(),
            new LogIndex(commit));
    }

    private Replica Get(ulong id) =>
        _replicas.TryGetValue(new ReplicaId(id), out Replica? replica)
            ? replica
            : throw new ArgumentOutOfRangeException(nameof(id), $"no replica {id} in a cluster of {_replicas.Count}");

    private sealed class Replica(RaftConfig config, MemoryRaftStorage storage)
    {
        /// <summary>The state machine now stands at <paramref name="snapshot"/>: exactly the entries its image holds.</summary>
        public void RestoreStateMachine(Snapshot snapshot)
        {
            Applied.Clear();
            Applied.AddRange(StateMachineImage.Decode(snapshot.Data.Span));
            AppliedIndex = snapshot.Metadata.Last.Index;
            if (Applied.Count != checked((int)AppliedIndex.Value))
                throw new InvalidOperationException($"replica {Config.Id}: snapshot {snapshot} holds {Applied.Count} entries");
        }

        public RaftConfig Config { get; } = config;
        public MemoryRaftStorage Storage { get; } = storage;
        public RaftNode Node { get; set; } = null!;
        public Ready? Outstanding { get; set; }
        public bool Down { get; set; }
        public LogIndex AppliedIndex { get; set; }
        public List<Entry> Applied { get; } = [];
        public List<ReadState> ReadStates { get; } = [];
        public List<ReadContext> AbortedReads { get; } = [];
        public List<LogIndex> Commits { get; } = [];
    }
}
