using Akka.Actor;
using Akka.Event;
using KvActors.Node.Hosting;
using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Placement;

/// <summary>The node decided who it is; its replicas may start.</summary>
public sealed record IdentityDecided(ClusterIdentity Identity);

/// <summary>
/// One per node at <c>/user/formation</c>. It owns <c>formed-seeds.json</c> and answers other seeds'
/// <see cref="FormationQuery"/>, <see cref="FormationAnnounce"/> and <see cref="MembershipQuery"/> (<see cref="ClusterJoiner"/>, <see cref="IslandWatcher"/>). When the node's data directory has no identity yet,
/// it also decides one, by asking the seeds:
/// <list type="bullet">
/// <item>a seed that any seed knows to have formed was wiped: it comes back under a fresh replica id, hosting nothing
/// until a membership change adds it (an empty replica under its old id could vote twice in a term);</item>
/// <item>a seed that every other seed says has not formed announces that it forms, waits until every other seed has
/// persisted that, and only then takes its initial replica id and starts its initial replicas; so a seed that ever
/// formed is known to every seed, and any one of them can later recognise it wiped;</item>
/// <item>a node that is not a seed joins under a fresh replica id once any seed answers.</item>
/// </list>
/// The first start of a cluster therefore needs every seed up, as etcd's initial cluster does. A seed whose shard
/// count or replication disagrees with the cluster's is refused, and so is a node that reaches no seed in time.
/// </summary>
public sealed class FormationService : ReceiveActor, IWithTimers
{
    private sealed record Retry
    {
        public static Retry Instance { get; } = new();
    }

    private sealed record GiveUp
    {
        public static GiveUp Instance { get; } = new();
    }

    private readonly NodeOptions _options;
    private readonly NodeSettings _settings;
    private readonly IActorRef _replicaHost;
    private readonly TaskCompletionSource<ClusterIdentity> _decided;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _answered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _acked = new(StringComparer.Ordinal);
    private FormedSeeds _formed;
    private ClusterIdentity? _identity;
    private bool _announcing;
    private int _retries;

    /// <summary>
    /// Creates the service. <paramref name="identity"/> is what the data directory records (null: decide one);
    /// <paramref name="decided"/> completes with the identity, or fails with a <see cref="NodeStartException"/>.
    /// </summary>
    public FormationService(NodeOptions options, NodeSettings settings, ClusterIdentity? identity, IActorRef replicaHost,
        TaskCompletionSource<ClusterIdentity> decided)
    {
        _options = options;
        _settings = settings;
        _identity = identity;
        _replicaHost = replicaHost;
        _decided = decided;
        _formed = FormedSeeds.Load(options.DataDirectory);
        Receive<FormationQuery>(OnQuery);
        Receive<FormationAnnounce>(OnAnnounce);
        Receive<FormationAnswer>(OnAnswer);
        Receive<FormationAck>(OnAck);
        Receive<MembershipQuery>(query => Sender.Tell(AkkaMembership.Answer(Context.System, _options.Endpoint, query)));
        Receive<Retry>(_ => AskSeeds());
        Receive<GiveUp>(_ => OnGiveUp());
    }

    /// <summary>Props for the service; see the constructor.</summary>
    public static Props Props(NodeOptions options, NodeSettings settings, ClusterIdentity? identity, IActorRef replicaHost,
        TaskCompletionSource<ClusterIdentity> decided) =>
        Akka.Actor.Props.Create(() => new FormationService(options, settings, identity, replicaHost, decided));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private IEnumerable<string> OtherSeeds => _options.Seeds.Where(s => s != _options.Endpoint);

    /// <inheritdoc />
    protected override void PreStart()
    {
        if (_identity is not null)
        {
            Decide(_identity, persist: false);
            return;
        }
        if (_options.IsSeed && !OtherSeeds.Any())
        {
            _log.Info("Node {NodeId}: the only seed, forming a new cluster of {Shards} shards", _options.NodeId, _options.Shards);
            Form();
            return;
        }
        _log.Info("Node {NodeId}: empty data directory; asking seeds {Seeds} whether the cluster exists",
            _options.NodeId, string.Join(",", OtherSeeds));
        Timers.StartPeriodicTimer("retry", Retry.Instance, TimeSpan.Zero, _settings.FormationRetryInterval);
        Timers.StartSingleTimer("give-up", GiveUp.Instance, _settings.JoinTimeout);
    }

    private void AskSeeds()
    {
        var query = new FormationQuery { Endpoint = _options.Endpoint, Shards = (uint)_options.Shards, Replication = (uint)_options.Replication };
        string[] waiting = [.. OtherSeeds.Where(s => _announcing ? !_acked.Contains(s) : !_answered.Contains(s))];
        foreach (string seed in waiting)
        {
            ActorSelection formation = Context.ActorSelection(NodePaths.On(NodePaths.AddressOf(seed), NodePaths.Formation));
            formation.Tell(_announcing ? new FormationAnnounce { Endpoint = _options.Endpoint } : query);
        }
        // Every ten rounds, say who we are waiting for: the usual cause is a seed not started yet.
        if (++_retries % 10 == 0)
        {
            _log.Info("Node {NodeId}: still waiting for seeds {Seeds} to {What} (the first start of a cluster needs every seed up)",
                _options.NodeId, string.Join(",", waiting), _announcing ? "acknowledge that this node formed" : "answer");
        }
    }

    private void OnQuery(FormationQuery query)
    {
        (int shards, int replication) = _identity is { } id ? (id.Shards, id.Replication) : (_options.Shards, _options.Replication);
        var answer = new FormationAnswer { NodeId = _options.NodeId, Endpoint = _options.Endpoint };
        if (ClusterIdentity.CountConflict(shards, replication, (int)query.Shards, (int)query.Replication) is { } conflict)
            answer.Conflict = $"seed {_options.Endpoint} ({_options.NodeId}) belongs to a cluster {conflict}";
        answer.Formed.AddRange(_formed.Formed);
        Sender.Tell(answer);
    }

    private void OnAnnounce(FormationAnnounce announce)
    {
        Record([announce.Endpoint]);
        Sender.Tell(new FormationAck { Endpoint = announce.Endpoint, From = _options.Endpoint });
    }

    private void OnAnswer(FormationAnswer answer)
    {
        if (_identity is not null || _announcing) return;
        if (answer.Conflict.Length > 0)
        {
            Fail(answer.Conflict);
            return;
        }
        Record(answer.Formed);      // a wiped node relearns what the cluster knows, so it can answer for others
        _answered.Add(answer.Endpoint);
        if (!_options.IsSeed)
        {
            _log.Info("Node {NodeId}: seed {Seed} ({Answerer}) answered; joining as a new replica that hosts no shards yet",
                _options.NodeId, answer.Endpoint, answer.NodeId);
            Decide(NewIncarnation(), persist: true);
        }
        else if (answer.Formed.Contains(_options.Endpoint))
        {
            _log.Warning("Node {NodeId}: seed {Seed} ({Answerer}) knows this seed formed before, but its data directory is empty: " +
                "it was wiped, so it comes back as a new replica (new replica id) that hosts no shards until it is added again",
                _options.NodeId, answer.Endpoint, answer.NodeId);
            Decide(NewIncarnation(), persist: true);
        }
        else if (OtherSeeds.All(_answered.Contains))
        {
            _log.Info("Node {NodeId}: every seed answered that this seed has not formed; announcing that it forms", _options.NodeId);
            _announcing = true;
            AskSeeds();
        }
    }

    private void OnAck(FormationAck ack)
    {
        if (_identity is not null || !_announcing || ack.Endpoint != _options.Endpoint) return;
        _acked.Add(ack.From);
        if (OtherSeeds.All(_acked.Contains)) Form();
    }

    private void OnGiveUp()
    {
        if (_identity is not null) return;
        string[] silent = [.. OtherSeeds.Where(s => _announcing ? !_acked.Contains(s) : !_answered.Contains(s))];
        Fail(_options.IsSeed
            ? $"seeds {string.Join(",", silent)} did not answer within {_settings.JoinTimeout.TotalSeconds:0} s: start every seed (the first start of a cluster needs all of them), or check --seeds"
            : $"no seed of {string.Join(",", _options.Seeds)} answered within {_settings.JoinTimeout.TotalSeconds:0} s: check --seeds and that the seeds are running");
    }

    private void Form()
    {
        Record([_options.Endpoint]);
        int[] hosted = ReplicaIds.InitialShards(_options.Endpoint, _options.Seeds, _options.Shards, _options.Replication);
        Decide(Identity(ReplicaIds.Initial(_options.Endpoint), hosted), persist: true);
    }

    private ClusterIdentity NewIncarnation() => Identity(ReplicaIds.Fresh(), []);

    private ClusterIdentity Identity(ReplicaId replica, int[] hosted) =>
        new(_options.Shards, _options.Replication, _options.Seeds, _options.NodeId, _options.Endpoint, replica.Value, hosted);

    private void Record(IEnumerable<string> endpoints)
    {
        FormedSeeds formed = _formed.With(endpoints);
        if (ReferenceEquals(formed, _formed)) return;
        formed.Save(_options.DataDirectory);      // durable before anyone is told: an ack promises this is on disk
        _formed = formed;
    }

    private void Decide(ClusterIdentity identity, bool persist)
    {
        if (persist) identity.Save(_options.DataDirectory);
        _identity = identity;
        Timers.CancelAll();
        _replicaHost.Tell(new IdentityDecided(identity));
        _decided.TrySetResult(identity);
    }

    private void Fail(string reason)
    {
        Timers.CancelAll();
        _log.Error("Node {NodeId} cannot start: {Reason}", _options.NodeId, reason);
        _decided.TrySetException(new NodeStartException(reason));
    }
}

/// <summary>A node refused to start; the message says why in one line, naming the option or seed to check.</summary>
public sealed class NodeStartException(string message) : Exception(message);
