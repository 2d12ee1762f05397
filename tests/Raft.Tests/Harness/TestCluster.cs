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
/// sent, unless a link is cut (<see cref="Isolate"/>, <see cref="Cut"/>), the target is down, or <see cref="DropIf"/>
/// says to lose them.
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

    /// <summary>
    /// Builds the cluster. Every replica starts from its own storage, which <paramref name="preload"/> may fill first
    /// (see <see cref="WriteLog"/>); <paramref name="configure"/> may change any replica's config (it sees the Id).
    /// </summary>
    public TestCluster(int size, bool preVote = false, bool checkQuorum = false,
        Func<RaftConfig, RaftConfig>? configure = null, Action<ReplicaId, MemoryRaftStorage>? preload = null)
    {
        ReplicaId[] ids = Enumerable.Range(1, size).Select(i => new ReplicaId((ulong)i)).ToArray();
        Membership membership = Membership.Of(ids);
        foreach (ReplicaId id in ids)
        {
            var config = new RaftConfig
            {
                Id = id,
                ElectionTimeoutTicks = ElectionTimeoutTicks,
                HeartbeatIntervalTicks = 1,
                RandomSeed = id.Value * SeedMultiplier,
                PreVote = preVote,
                CheckQuorum = checkQuorum,
            };
            if (configure is not null) config = configure(config);
            var storage = new MemoryRaftStorage(membership);
            preload?.Invoke(id, storage);
            var replica = new Replica(config, storage);
            replica.Node = new RaftNode(config, storage);
            replica.Commits.Add(storage.HardState.Commit);
            _replicas[id] = replica;
        }
        Ids = ids;
    }

    /// <summary>The replicas' ids, 1..N.</summary>
    public IReadOnlyList<ReplicaId> Ids { get; }

    /// <summary>Lost messages: return true to drop one (checked when it would be delivered). Null drops nothing.</summary>
    public Func<RaftMessage, bool>? DropIf { get; set; }

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

    /// <summary>The entries replica <paramref name="id"/> holds durably, from index 1.</summary>
    public IReadOnlyList<Entry> StoredLog(ulong id)
    {
        MemoryRaftStorage storage = Storage(id);
        var entries = new List<Entry>();
        for (LogIndex i = storage.FirstIndex(); i <= storage.LastIndex(); i = i.Next()) entries.Add(storage.EntryAt(i));
        return entries;
    }

    /// <summary>The terms of the entries replica <paramref name="id"/> holds durably, from index 1.</summary>
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
    /// Does what <paramref name="ready"/> asks, in the contract's order: writes the hard state and entries, sends the
    /// messages (unless <paramref name="send"/> is false: then they are lost), applies, records reads, advances.
    /// </summary>
    public void Complete(ulong id, Ready ready, bool send = true)
    {
        Replica replica = Get(id);
        if (!ReferenceEquals(replica.Outstanding, ready))
            throw new InvalidOperationException($"replica {id}: that Ready is not the one taken");
        replica.Storage.Append(ready.Entries);
        if (ready.HardState is { } hardState)
        {
            replica.Storage.SetHardState(hardState);
            replica.Commits.Add(hardState.Commit);
        }
        foreach (RaftMessage message in ready.Messages)
        {
            if (message.From != replica.Config.Id)
                throw new InvalidOperationException($"replica {id} sent a message from {message.From}: {message}");
            _sent.Add(message);
            if (send) _network.Enqueue(message);
        }
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
