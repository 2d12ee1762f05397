using Akka.Actor;
using Akka.Event;
using Google.Protobuf;
using KvActors.Protocol;
using KvActors.Node.Topology;
using KvActors.Protocol.Wire;
using KvActors.Raft.Ids;

namespace KvActors.Node.Routing;

/// <summary>
/// One per node: takes client requests, maps each to its shard, and drives it to that shard's leader replica.
/// It keeps a leader cache per shard, follows NotLeader hints, and on Unavailable, on NotLeader without a hint or
/// on a replica that does not answer within <see cref="GatewaySettings.AttemptTimeout"/> it tries the next replica
/// after an exponential backoff, until the request's deadline or <see cref="GatewaySettings.MaxAttempts"/>. Client
/// traffic never waits on Akka sharding or the cluster's reachability view: Raft's answers alone say who leads.
/// </summary>
/// <remarks>
/// <para>Accepts a bare <see cref="KvRequest"/> (routed by its keys, with the Gateway's deadline) or a
/// <see cref="ShardRequest"/> (run on the named shard, whose keys are checked to belong to it); both are answered
/// with one <see cref="KvReply"/>, wrapped in a <see cref="GatewayReply"/> when the ShardRequest carries a correlation id. Requests are validated with <see cref="KvLimits"/> first. A Txn whose keys span
/// shards is refused InvalidArgument (hash tags, <see cref="ShardMap.ShardOfKey"/>, keep related keys together).
/// A bare Range is refused too: keys are placed by hash, so a key range covers every shard and the client merges
/// one Range per shard.</para>
/// <para>Retries and exactly-once: an attempt refused with NotLeader or Unavailable did not apply, so it is always
/// retried. An attempt without an answer (or answered Timeout) may have applied; a write is retried only when it
/// carries a client id and sequence, which the state machine applies at most once. When the Gateway gives up it
/// answers Timeout if some attempt's outcome is unknown, else Unavailable.</para>
/// <para>Where replicas are: an <see cref="UpdateShardDirectory"/>, or the <see cref="KnownNodes"/> of the node
/// directory it is subscribed to. <see cref="GetClusterStatus"/> is passed on to the node's status service,
/// <see cref="DrainNode"/> and <see cref="RemoveNode"/> to its <see cref="Management.NodeOperations"/>.</para>
/// <para>Bounded: at most <see cref="GatewaySettings.MaxPendingRequests"/> requests in progress; past it,
/// Unavailable at once.</para>
/// </remarks>
public sealed class Gateway : UntypedActor, IWithTimers
{
    /// <summary>Leader hints followed without backoff per request; later hints wait like any retry.</summary>
    private const int MaxImmediateHints = 2;

    private readonly GatewaySettings _settings;
    private readonly KvLimits _limits;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<long, Pending> _pending = new();
    private readonly Random _jitter = new();
    private ShardDirectory _directory;
    private ActorSelection[][] _replicas = [];
    private string[][] _nodeOfReplica = [];  // per shard, per replica index: the Akka address of its node
    private ReplicaId[] _leaders;            // per shard; None = not known
    private bool[] _warned;                  // per shard: a failed request was logged at Warning since the last success
    private long _nextId;

    /// <summary>One request in progress.</summary>
    private sealed class Pending(long id, KvRequest request, IActorRef client, ulong correlation, int shard, DateTime deadline, bool retriesWhenUnknown)
    {
        public long Id { get; } = id;
        public KvRequest Request { get; } = request;
        public IActorRef Client { get; } = client;
        /// <summary>The client's id for the request (<see cref="ShardRequest.CorrelationId"/>); 0 for a bare reply.</summary>
        public ulong Correlation { get; } = correlation;
        public int Shard { get; } = shard;
        public DateTime Deadline { get; } = deadline;
        /// <summary>Reads, and writes with a session, may be sent again after an attempt with an unknown outcome.</summary>
        public bool RetriesWhenUnknown { get; } = retriesWhenUnknown;
        public int Attempt { get; set; }
        public int Failures { get; set; }
        public int HintsFollowed { get; set; }
        public int ReplicaIndex { get; set; }
        public ReplicaId Target { get; set; }
        public bool OutcomeUnknown { get; set; }
        public string LastProblem { get; set; } = "";
    }

    /// <summary>Identifies one attempt, for the continuation that turns its answer into an <see cref="AttemptEnded"/>.</summary>
    private sealed record AttemptKey(long Id, int Attempt);

    /// <summary>Creates the Gateway of one node.</summary>
    /// <param name="settings">Deadlines, retries and bounds (<c>kvactors.gateway</c>).</param>
    /// <param name="directory">Where the replicas of every shard live.</param>
    /// <param name="limits">The limits requests are checked against; <see cref="KvLimits.Default"/> when null.</param>
    public Gateway(GatewaySettings settings, ShardDirectory directory, KvLimits? limits = null)
    {
        _settings = settings;
        _limits = limits ?? KvLimits.Default;
        _directory = directory;
        _leaders = new ReplicaId[directory.ShardCount];
        _warned = new bool[directory.ShardCount];
        SetDirectory(directory);
    }

    /// <summary>Props for a Gateway; see the constructor.</summary>
    public static Props Props(GatewaySettings settings, ShardDirectory directory, KvLimits? limits = null) =>
        Akka.Actor.Props.Create(() => new Gateway(settings, directory, limits));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case KvRequest request: Accept(request, 0, ShardOf(request, out string? problem), problem, _settings.RequestDeadline); break;
            case ShardRequest routed: AcceptRouted(routed); break;
            case AttemptEnded ended: OnAttemptEnded(ended); break;
            case RetryRequest retry:
                if (_pending.TryGetValue(retry.Id, out Pending? pending)) SendAttempt(pending);
                break;
            case UpdateShardDirectory update: OnUpdateDirectory(update.Directory); break;
            case KnownNodes known: OnUpdateDirectory(ShardDirectory.From(known, _directory.ShardCount)); break;
            case GetClusterStatus status: Context.ActorSelection("/user/" + NodePaths.Status).Tell(status, Sender); break;
            case DrainNode drain: Context.ActorSelection("/user/" + NodePaths.Operations).Tell(drain, Sender); break;
            case RemoveNode remove: Context.ActorSelection("/user/" + NodePaths.Operations).Tell(remove, Sender); break;
            case GetShardCount: Sender.Tell(new ShardCount { Count = (uint)_directory.ShardCount }); break;
            default: Unhandled(message); break;
        }
    }

    private void AcceptRouted(ShardRequest routed)
    {
        int shard = routed.Shard > int.MaxValue ? -1 : (int)routed.Shard;
        string? problem = null;
        if (routed.Request is null)
        {
            problem = "the ShardRequest carries no request";
            shard = -1;
        }
        else if (shard < 0 || shard >= _directory.ShardCount)
        {
            problem = $"shard {routed.Shard} does not exist; the cluster has {_directory.ShardCount} shards";
            shard = -1;
        }
        else if (routed.Request.CommandCase != KvRequest.CommandOneofCase.Range)
        {
            int owner = ShardOf(routed.Request, out problem);
            if (owner >= 0 && owner != shard)
            {
                problem = $"the request's keys belong to shard {owner}, not {shard}; does the client use the cluster's shard count ({_directory.ShardCount})?";
                shard = -1;
            }
            else if (owner == -1 && routed.Request.CommandCase != KvRequest.CommandOneofCase.Txn) shard = -1;
            else if (owner < -1) shard = -1;      // a Txn that spans shards
            else problem = null;                  // a Txn with only Range ops runs on the shard asked for
        }
        var asked = TimeSpan.FromMilliseconds(routed.DeadlineMs);
        TimeSpan deadline = asked > TimeSpan.Zero && asked < _settings.RequestDeadline ? asked : _settings.RequestDeadline;
        Accept(routed.Request ?? new KvRequest(), routed.CorrelationId, shard, problem, deadline);
    }

    private void Accept(KvRequest request, ulong correlation, int shard, string? problem, TimeSpan deadline)
    {
        ValidationResult validation = _limits.Validate(request);
        if (!validation.IsOk)
        {
            Answer(Sender, correlation, Reply(validation.Error, validation.Message));
            return;
        }
        if (shard < 0)
        {
            Answer(Sender, correlation, Reply(ErrorCode.InvalidArgument, problem ?? "the request has no key to route by"));
            return;
        }
        if (_pending.Count >= _settings.MaxPendingRequests)
        {
            Answer(Sender, correlation, Reply(ErrorCode.Unavailable, $"the gateway has {_settings.MaxPendingRequests} requests in progress; retry after a backoff"));
            return;
        }
        bool retriesWhenUnknown = IsRead(request) || !request.ClientId.IsEmpty;
        var pending = new Pending(++_nextId, request, Sender, correlation, shard, DateTime.UtcNow + deadline, retriesWhenUnknown);
        _pending.Add(pending.Id, pending);
        SendAttempt(pending);
    }

    /// <summary>Sends the request to the cached leader, else to the replica after the last one tried.</summary>
    private void SendAttempt(Pending pending)
    {
        TimeSpan remaining = pending.Deadline - DateTime.UtcNow;
        if (remaining <= TimeSpan.Zero || pending.Attempt >= _settings.MaxAttempts)
        {
            GiveUp(pending);
            return;
        }
        ShardReplicas replicas = _directory.Shards[pending.Shard];
        if (replicas.Ids.IsEmpty)
        {
            pending.LastProblem = $"no replica of shard {pending.Shard} is known yet (the cluster is starting, or the nodes hosting it are down)";
            RetryLater(pending);
            return;
        }
        int index = _leaders[pending.Shard].IsSome ? replicas.IndexOf(_leaders[pending.Shard]) : -1;
        if (index < 0) index = pending.ReplicaIndex % replicas.Ids.Length;
        pending.ReplicaIndex = index;
        pending.Target = replicas.Ids[index];
        pending.Attempt++;
        TimeSpan timeout = remaining < _settings.AttemptTimeout ? remaining : _settings.AttemptTimeout;
        if (_log.IsDebugEnabled)
            _log.Debug("Gateway: request {Request} for shard {Shard}, attempt {Attempt} at replica {Replica}",
                pending.Id, pending.Shard, pending.Attempt, pending.Target);
        _replicas[pending.Shard][index].Ask<KvReply>(pending.Request, timeout)
            .ContinueWith(static (task, state) =>
            {
                var key = (AttemptKey)state!;
                return new AttemptEnded(key.Id, key.Attempt, task.IsCompletedSuccessfully ? task.Result : null);
            }, new AttemptKey(pending.Id, pending.Attempt), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void OnAttemptEnded(AttemptEnded ended)
    {
        if (!_pending.TryGetValue(ended.Id, out Pending? pending) || pending.Attempt != ended.Attempt) return;   // late
        KvReply? reply = ended.Reply;
        int shard = pending.Shard;
        if (reply is null)
        {
            ForgetLeader(shard, pending.Target);
            pending.LastProblem = $"replica {pending.Target} did not answer";
            OnUnknownOutcome(pending);
            return;
        }
        switch (reply.Error)
        {
            case ErrorCode.NotLeader:
                var hint = new ReplicaId(reply.LeaderReplica);
                pending.LastProblem = reply.Message;
                if (hint.IsSome && hint != pending.Target && _directory.Shards[shard].IndexOf(hint) >= 0)
                {
                    // Follow the hint: the replica named a leader it heard from. At once the first times; after that
                    // with backoff, so that replicas with stale views during an election cannot burn every attempt
                    // in a burst of hints that point at each other.
                    _leaders[shard] = hint;
                    if (++pending.HintsFollowed <= MaxImmediateHints) SendAttempt(pending);
                    else RetryLater(pending);
                }
                else
                {
                    ForgetLeader(shard, pending.Target);
                    RetryLater(pending);
                }
                break;
            case ErrorCode.Unavailable:
                pending.LastProblem = reply.Message;
                ForgetLeader(shard, pending.Target);
                RetryLater(pending);
                break;
            case ErrorCode.Timeout:
                pending.LastProblem = reply.Message;
                ForgetLeader(shard, pending.Target);
                OnUnknownOutcome(pending);
                break;
            default:
                // Answered by a state machine (Ok, Conflict, or a refusal): a linearizable answer comes from the leader.
                string leaderNode = "";
                if (!reply.Stale)
                {
                    _leaders[shard] = pending.Target;
                    int index = _directory.Shards[shard].IndexOf(pending.Target);    // the directory may have changed meanwhile
                    if (index >= 0) leaderNode = _nodeOfReplica[shard][index];
                }
                _warned[shard] = false;
                Finish(pending, reply, leaderNode);
                break;
        }
    }

    /// <summary>The attempt may have applied: retry only what applies at most once (reads, writes with a session).</summary>
    private void OnUnknownOutcome(Pending pending)
    {
        if (!IsRead(pending.Request)) pending.OutcomeUnknown = true;
        if (pending.RetriesWhenUnknown) RetryLater(pending);
        else Finish(pending, Reply(ErrorCode.Timeout,
            $"shard {pending.Shard}: {pending.LastProblem}; the write has no client id, so it is not retried (it may have applied)"));
    }

    private void RetryLater(Pending pending)
    {
        pending.Failures++;
        pending.ReplicaIndex = (pending.ReplicaIndex + 1) % Math.Max(1, _directory.Shards[pending.Shard].Ids.Length);
        double backoffMs = _settings.BackoffMin.TotalMilliseconds * Math.Pow(2, Math.Min(pending.Failures - 1, 30));
        backoffMs = Math.Min(backoffMs, _settings.BackoffMax.TotalMilliseconds) * (0.5 + (_jitter.NextDouble() * 0.5));
        TimeSpan backoff = TimeSpan.FromMilliseconds(backoffMs);
        if (pending.Attempt >= _settings.MaxAttempts || DateTime.UtcNow + backoff >= pending.Deadline)
        {
            GiveUp(pending);
            return;
        }
        Timers.StartSingleTimer(pending, new RetryRequest(pending.Id), backoff);   // keyed by the request itself
    }

    private void GiveUp(Pending pending)
    {
        ErrorCode error = pending.OutcomeUnknown ? ErrorCode.Timeout : ErrorCode.Unavailable;
        string outcome = pending.OutcomeUnknown
            ? "the write may have applied (a retry with the same sequence applies once)"
            : "nothing applied; safe to retry";
        string message = $"shard {pending.Shard}: no leader answered after {pending.Attempt} attempts within the deadline; {outcome}; last: {pending.LastProblem}";
        if (!_warned[pending.Shard])
        {
            _warned[pending.Shard] = true;
            _log.Warning("Gateway: shard {Shard} request {Request} failed with {Error} after {Attempts} attempts; last: {Problem}. " +
                "Check that a majority of the shard's replicas runs (further failures are logged at Debug)",
                pending.Shard, pending.Id, error, pending.Attempt, pending.LastProblem);
        }
        else
        {
            _log.Debug("Gateway: shard {Shard} request {Request} failed with {Error} after {Attempts} attempts",
                pending.Shard, pending.Id, error, pending.Attempt);
        }
        Finish(pending, Reply(error, message));
    }

    private void Finish(Pending pending, KvReply reply, string leaderNode = "")
    {
        _pending.Remove(pending.Id);
        Timers.Cancel(pending);
        Answer(pending.Client, pending.Correlation, reply, leaderNode);
    }

    /// <summary>
    /// A bare reply, or one wrapped with the client's correlation id (and the leader's node, when the leader answered).
    /// Wrapped, not stamped: a reply from a local replica is the very object its session table keeps, and must not change.
    /// </summary>
    private static void Answer(IActorRef client, ulong correlation, KvReply reply, string leaderNode = "") =>
        client.Tell(correlation == 0 ? reply : new GatewayReply { CorrelationId = correlation, Reply = reply, LeaderNode = leaderNode });

    private void ForgetLeader(int shard, ReplicaId replica)
    {
        if (_leaders[shard] == replica) _leaders[shard] = ReplicaId.None;
    }

    private void OnUpdateDirectory(ShardDirectory directory)
    {
        if (directory.ShardCount != _directory.ShardCount)
        {
            _log.Error("Gateway: refused a shard directory of {Count} shards; the cluster has {Expected}",
                directory.ShardCount, _directory.ShardCount);
            return;
        }
        _directory = directory;
        SetDirectory(directory);
        for (int shard = 0; shard < _leaders.Length; shard++)
        {
            if (_leaders[shard].IsSome && directory.Shards[shard].IndexOf(_leaders[shard]) < 0) _leaders[shard] = ReplicaId.None;
        }
    }

    private void SetDirectory(ShardDirectory directory)
    {
        var replicas = new ActorSelection[directory.ShardCount][];
        var nodes = new string[directory.ShardCount][];
        for (int shard = 0; shard < replicas.Length; shard++)
        {
            ShardReplicas shardReplicas = directory.Shards[shard];
            replicas[shard] = new ActorSelection[shardReplicas.Paths.Length];
            nodes[shard] = new string[shardReplicas.Paths.Length];
            for (int i = 0; i < shardReplicas.Paths.Length; i++)
            {
                replicas[shard][i] = Context.ActorSelection(shardReplicas.Paths[i]);
                nodes[shard][i] = shardReplicas.Paths[i].Address.ToString();
            }
        }
        _replicas = replicas;
        _nodeOfReplica = nodes;
    }

    /// <summary>The shard of a request's keys, or -1 with a problem (no key, a bare Range) or -2 (a Txn spanning shards).</summary>
    private int ShardOf(KvRequest request, out string? problem)
    {
        problem = null;
        int count = _directory.ShardCount;
        switch (request.CommandCase)
        {
            case KvRequest.CommandOneofCase.Put: return ShardMap.ShardOfKey(request.Put.Key.Span, count).Value;
            case KvRequest.CommandOneofCase.Delete: return ShardMap.ShardOfKey(request.Delete.Key.Span, count).Value;
            case KvRequest.CommandOneofCase.Get: return ShardMap.ShardOfKey(request.Get.Key.Span, count).Value;
            case KvRequest.CommandOneofCase.CompareAndSwap: return ShardMap.ShardOfKey(request.CompareAndSwap.Key.Span, count).Value;
            case KvRequest.CommandOneofCase.Range:
                problem = "a Range covers every shard (keys are placed by hash): send one ShardRequest per shard and merge them, as KvClient.RangeAsync does";
                return -1;
            case KvRequest.CommandOneofCase.Txn:
                int shard = TxnShard(request.Txn, count, out problem);
                if (shard == -1 && problem is null) problem = "the txn has no key outside Range ops to route it by; send it as a ShardRequest";
                return shard;
            default:
                return -1;
        }
    }

    /// <summary>The one shard of every key a Txn names (Range ops run on that shard); -1 if none, -2 if they differ.</summary>
    private static int TxnShard(TxnRequest txn, int count, out string? problem)
    {
        problem = null;
        int shard = -1;
        foreach (Compare compare in txn.Compares)
        {
            if (!SameShard(compare.Key, count, ref shard, ref problem)) return -2;
        }
        if (!OpsInShard(txn.Success, count, ref shard, ref problem) || !OpsInShard(txn.Failure, count, ref shard, ref problem)) return -2;
        return shard;
    }

    private static bool OpsInShard(Google.Protobuf.Collections.RepeatedField<Op> ops, int count, ref int shard, ref string? problem)
    {
        foreach (Op op in ops)
        {
            ByteString? key = op.OpCase switch
            {
                Op.OpOneofCase.Put => op.Put.Key,
                Op.OpOneofCase.Delete => op.Delete.Key,
                Op.OpOneofCase.Get => op.Get.Key,
                _ => null,
            };
            if (key is not null && !SameShard(key, count, ref shard, ref problem)) return false;
        }
        return true;
    }

    private static bool SameShard(ByteString key, int count, ref int shard, ref string? problem)
    {
        int keyShard = ShardMap.ShardOfKey(key.Span, count).Value;
        if (shard < 0 || shard == keyShard)
        {
            shard = keyShard;
            return true;
        }
        problem = $"the txn's keys belong to shards {shard} and {keyShard}; a txn runs on one shard (give related keys the same {{hash tag}})";
        return false;
    }

    private static bool IsRead(KvRequest request) =>
        request.CommandCase is KvRequest.CommandOneofCase.Get or KvRequest.CommandOneofCase.Range;

    private static KvReply Reply(ErrorCode error, string message) => new() { Error = error, Message = message };
}
