using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Google.Protobuf;
using KvActors.Protocol;
using KvActors.Protocol.Serialization;
using KvActors.Protocol.Wire;

namespace KvActors.Client;

/// <summary>
/// The application's handle on a KvActors cluster: puts, gets, deletes, compare-and-swaps, ranges and
/// transactions, each with a deadline and a <see cref="CancellationToken"/>. Thread-safe; create one per
/// application (or per independent writer) and share it.
/// </summary>
/// <remarks>
/// <para><b>Connecting.</b> Outside the cluster, <see cref="Connect"/> (an ActorSystem of the client's own) or
/// <see cref="Create(ActorSystem, IEnumerable{string}, KvClientOptions?)"/> (the application's ActorSystem) reach the
/// Gateways through Akka's ClusterClient and the receptionist of any contact point; inside the cluster,
/// <see cref="Create(IActorRef, KvClientOptions?)"/> talks to one Gateway directly. Both behave the same from here on.
/// Dispose the client when done.</para>
/// <para><b>Errors.</b> Expected outcomes are values: <see cref="GetAsync(ReadOnlyMemory{byte}, TimeSpan?, CancellationToken)"/>
/// returns null for an absent key and a failed compare-and-swap returns <c>Succeeded = false</c>. Everything else
/// throws one <see cref="KvException"/> whose <see cref="KvException.Error"/> is InvalidArgument or TooLarge (bad
/// input, checked here before anything is sent; nothing changed), Unavailable (no leader now; nothing changed;
/// retry) or Timeout (the deadline passed; a write may have applied). Cancelling the token throws
/// <see cref="OperationCanceledException"/>; a write cancelled after it was sent may still apply.</para>
/// <para><b>Exactly once.</b> Each client has one random 16-byte client id. The cluster keeps one session per
/// client id <i>per shard</i> that remembers the last applied sequence and opens at sequence 1, and a client may
/// have one request outstanding per session (a later sequence applied first would supersede an earlier one). So
/// writes (put, delete, compare-and-swap, txn) are numbered per shard and sent one at a time per shard; writes to
/// different shards run concurrently. Every retry of a write — by the Gateway, to another replica or after a
/// leader change — carries the same sequence, so it applies at most once. A write that certainly did not apply
/// (Unavailable, TooLarge) gives its number back. After a write whose outcome is unknown (Timeout, cancelled) on a
/// shard that has not yet opened this client's session, or after an InvalidArgument (e.g. the shard evicted the
/// session: "session expired"), that shard moves to a fresh client id from sequence 1: the old number is never
/// reused, so the unknown write still applies at most once. Reads go through ReadIndex and need no session, so they are never queued.</para>
/// <para><b>Placement.</b> A key is placed by <see cref="ShardMap.ShardOfKey"/>: a key containing <c>{tag}</c> by
/// its tag alone, so a transaction may span keys with the same tag; a transaction whose keys fall in different
/// shards is refused with InvalidArgument. A range is asked of every shard and merged in key order.</para>
/// </remarks>
public sealed class KvClient : IAsyncDisposable
{
    private readonly GatewayTransport _transport;
    private readonly KvClientOptions _options;
    private readonly ByteString _clientId;
    private ShardSession[]? _sessions;     // one per shard, once the shard count is known

    /// <summary>
    /// One shard's session of this client: its id and last sequence, whether the shard has applied one of its requests
    /// (a session opens only when sequence 1 applies), and the gate that keeps one write outstanding.
    /// </summary>
    private sealed class ShardSession(ByteString clientId)
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public ByteString ClientId { get; set; } = clientId;
        public ulong LastSequence { get; set; }
        public bool Opened { get; set; }
    }

    private KvClient(GatewayTransport transport, KvClientOptions options)
    {
        _transport = transport;
        _options = options;
        _clientId = NewClientId();
    }

    /// <summary>A client that sends every request through <paramref name="gateway"/> (a node's Gateway actor): for
    /// code that runs inside the cluster. Disposing the client leaves the Gateway alone.</summary>
    /// <param name="gateway">The Gateway; it answers <see cref="ShardRequest"/>, <see cref="GetShardCount"/> and
    /// <see cref="GetClusterStatus"/>.</param>
    /// <param name="options">Deadlines and limits; <see cref="KvClientOptions.Default"/> when null.</param>
    public static KvClient Create(IActorRef gateway, KvClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ActorSystem system = (gateway as IInternalActorRef)?.Provider.Guardian.Underlying.System
            ?? throw new ArgumentException("the gateway reference belongs to no ActorSystem of this process", nameof(gateway));
        return new KvClient(new DirectGatewayTransport(gateway, system), options ?? KvClientOptions.Default);
    }

    /// <summary>
    /// A client outside the cluster that reaches it through Akka's ClusterClient, started in <paramref name="system"/>:
    /// it contacts the receptionist of any of <paramref name="contactPoints"/> (typically the seed nodes), learns the
    /// others from it, and fails over between them. Disposing the client stops its ClusterClient actor, not the system.
    /// </summary>
    /// <param name="system">An ActorSystem with the <c>remote</c> (or <c>cluster</c>) provider whose config includes
    /// <see cref="KvClientConfig.Default"/>, so that every message crosses the wire as protobuf.</param>
    /// <param name="contactPoints">Node endpoints <c>host:port</c>; at least one must be up for requests to succeed.</param>
    /// <param name="options">Deadlines and limits; <see cref="KvClientOptions.Default"/> when null.</param>
    /// <exception cref="FormatException">No contact point, a malformed one, or one named twice.</exception>
    /// <exception cref="ArgumentException">The system would send KvActors' or ClusterClient's messages as something
    /// other than protobuf: its config lacks <see cref="KvClientConfig.Default"/>.</exception>
    public static KvClient Create(ActorSystem system, IEnumerable<string> contactPoints, KvClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        IReadOnlyList<string> endpoints = Endpoints.ParseList(string.Join(',', contactPoints ?? throw new ArgumentNullException(nameof(contactPoints))));
        RequireProtobufOnTheWire(system);
        var transport = new ClusterClientTransport(system, KvClientConfig.ReceptionistPaths(endpoints), string.Join(',', endpoints), ownsSystem: false);
        return new KvClient(transport, options ?? KvClientOptions.Default);
    }

    /// <summary>
    /// A client with an ActorSystem of its own (<see cref="KvClientConfig.Default"/>: remote provider on 127.0.0.1, any
    /// port, warnings only) that reaches the cluster through <paramref name="contactPoints"/>, as
    /// <see cref="Create(ActorSystem, IEnumerable{string}, KvClientOptions?)"/> does. Dispose it to stop that system.
    /// </summary>
    /// <param name="contactPoints">Node endpoints <c>host:port</c>, e.g. <c>["127.0.0.1:7101", "127.0.0.1:7102"]</c>.</param>
    /// <param name="options">Deadlines and limits; <see cref="KvClientOptions.Default"/> when null.</param>
    /// <param name="config">HOCON that overrides <see cref="KvClientConfig.Default"/>, e.g. the address a client on
    /// another host advertises (<c>akka.remote.dot-netty.tcp.hostname</c>); null for none.</param>
    /// <exception cref="FormatException">No contact point, a malformed one, or one named twice.</exception>
    public static KvClient Connect(IEnumerable<string> contactPoints, KvClientOptions? options = null, string? config = null)
    {
        IReadOnlyList<string> endpoints = Endpoints.ParseList(string.Join(',', contactPoints ?? throw new ArgumentNullException(nameof(contactPoints))));
        IReadOnlyList<ActorPath> receptionists = KvClientConfig.ReceptionistPaths(endpoints);
        Config full = config is null ? KvClientConfig.Default : ConfigurationFactory.ParseString(config).WithFallback(KvClientConfig.Default);
        ActorSystem system = ActorSystem.Create("kvclient", full);
        var transport = new ClusterClientTransport(system, receptionists, string.Join(',', endpoints), ownsSystem: true);
        return new KvClient(transport, options ?? KvClientOptions.Default);
    }

    /// <summary>Stops what this client created: its ClusterClient actor, and its ActorSystem when it made one
    /// (<see cref="Connect"/>). Calls still in flight fail with Timeout or Unavailable.</summary>
    public ValueTask DisposeAsync() => _transport.DisposeAsync();

    /// <summary>
    /// The state of every node and shard as the cluster sees it (the Gateway that answers gathers it from the shards'
    /// managers). A read: it changes nothing and may be retried.
    /// </summary>
    /// <param name="deadline">How long the call may take; <see cref="KvClientOptions.RequestDeadline"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The nodes with their status, and per shard its leader's node id (absent without a leader), term,
    /// voters, learners and each replica's applied index and lag; see <c>node.proto</c> for every field.</returns>
    /// <exception cref="KvException">Unavailable: no Gateway answered within the deadline.</exception>
    public Task<ClusterStatus> StatusAsync(TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        AskGatewayAsync<ClusterStatus>(new GetClusterStatus(), deadline, cancellationToken);

    /// <summary>The state of every node and shard; see <see cref="StatusAsync(TimeSpan?, CancellationToken)"/>.</summary>
    public Task<ClusterStatus> StatusAsync(CancellationToken cancellationToken) => StatusAsync(null, cancellationToken);

    /// <summary>
    /// Drains node <paramref name="nodeId"/>: shard managers move every replica and leadership it holds to other nodes
    /// and place none on it, until the drain is cancelled (<see cref="CancelDrainAsync"/>; a restart does not end it).
    /// Returns once the node has recorded the drain; the moves then show in <see cref="StatusAsync(TimeSpan?, CancellationToken)"/>,
    /// and the node is safe to stop when it holds no replica and leads no shard there. Asking again is safe.
    /// </summary>
    /// <param name="nodeId">The node's id, e.g. <c>n3</c>.</param>
    /// <param name="deadline">How long the call may take; <see cref="KvClientOptions.RequestDeadline"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait (the drain may still have been recorded).</param>
    /// <exception cref="KvException">InvalidArgument, nothing changed: no such node, the node is not up, or the other nodes
    /// that take replicas would be fewer than the replication factor. Unavailable: no Gateway or node answered in time.</exception>
    public Task DrainNodeAsync(string nodeId, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        NodeCommandAsync(new DrainNode { NodeId = NodeIdArgument(nodeId) }, deadline, cancellationToken);

    /// <summary>Ends a drain of node <paramref name="nodeId"/>: it may hold replicas and lead shards again (balancing brings
    /// it its share). Asking for a node that is not draining is safe; see <see cref="DrainNodeAsync"/> for the rest.</summary>
    /// <exception cref="KvException">InvalidArgument: no such node, or it is not up. Unavailable: no answer in time.</exception>
    public Task CancelDrainAsync(string nodeId, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        NodeCommandAsync(new DrainNode { NodeId = NodeIdArgument(nodeId), Cancel = true }, deadline, cancellationToken);

    /// <summary>
    /// Removes node <paramref name="nodeId"/> for good: the cluster downs it, and every shard replaces its replica there
    /// now rather than after heal-after. Returns once the shards' managers were told; the replacements then show in
    /// <see cref="StatusAsync(TimeSpan?, CancellationToken)"/>, and the node leaves the status once no shard names it. If
    /// the node is started again with its data directory, it deletes its replaced replicas and joins as an empty node.
    /// Asking again is safe.
    /// </summary>
    /// <param name="nodeId">The node's id, e.g. <c>n3</c>.</param>
    /// <param name="deadline">How long the call may take; <see cref="KvClientOptions.RequestDeadline"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait (the removal may still have started).</param>
    /// <exception cref="KvException">InvalidArgument, nothing changed: no such node, the node is up (drain and stop it first),
    /// or the nodes left to take replicas would be fewer than the replication factor. Unavailable: no answer in time.</exception>
    public Task RemoveNodeAsync(string nodeId, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        NodeCommandAsync(new RemoveNode { NodeId = NodeIdArgument(nodeId) }, deadline, cancellationToken);

    private static string NodeIdArgument(string nodeId) =>
        string.IsNullOrWhiteSpace(nodeId) ? throw new KvException(ErrorCode.InvalidArgument, "the node id is empty") : nodeId;

    private async Task NodeCommandAsync(IMessage command, TimeSpan? deadline, CancellationToken cancellationToken)
    {
        NodeCommandAnswer answer = await AskGatewayAsync<NodeCommandAnswer>(command, deadline, cancellationToken).ConfigureAwait(false);
        if (answer.Refusal.Length > 0) throw new KvException(ErrorCode.InvalidArgument, answer.Refusal);
    }

    /// <summary>Asks a Gateway <paramref name="message"/> and waits for its answer; no answer in time is Unavailable.</summary>
    private async Task<T> AskGatewayAsync<T>(IMessage message, TimeSpan? deadline, CancellationToken cancellationToken)
    {
        TimeSpan timeout = deadline ?? _options.RequestDeadline;
        try
        {
            return await _transport.AskAsync<T>(message, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new KvException(ErrorCode.Unavailable, _transport.NoAnswer(timeout), e);
        }
    }

    /// <summary>
    /// Refuses a system that would send our messages as JSON: KvActors' through KvSerializer, and the envelope
    /// ClusterClient wraps each request in through Akka.Cluster.Tools' protobuf serializer.
    /// </summary>
    private static void RequireProtobufOnTheWire(ActorSystem system)
    {
        var probe = new Akka.Cluster.Tools.PublishSubscribe.Send(KvClientConfig.GatewayPath, new GetShardCount());
        if (system.Serialization.FindSerializerFor(new GetShardCount()) is not KvSerializer
            || system.Serialization.FindSerializerFor(probe) is Akka.Serialization.NewtonSoftJsonSerializer)
            throw new ArgumentException(
                $"ActorSystem {system.Name} would send KvActors' messages as JSON; build its config with KvClientConfig.Default as a fallback",
                nameof(system));
    }

    /// <summary>This client's 16-byte session id. A shard moves to a fresh id when its session there cannot continue
    /// (see the remarks on exactly-once).</summary>
    public ReadOnlyMemory<byte> ClientId => _clientId.Memory;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>.</summary>
    /// <param name="key">1..4096 bytes.</param>
    /// <param name="value">Up to 1 MiB.</param>
    /// <param name="deadline">How long the call may take; <see cref="KvClientOptions.RequestDeadline"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait (a write already sent may still apply).</param>
    /// <returns>The shard revision of the write.</returns>
    /// <exception cref="KvException">InvalidArgument, TooLarge, Unavailable or Timeout.</exception>
    public async Task<ulong> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new KvRequest { Put = new PutRequest { Key = ByteString.CopyFrom(key.Span), Value = ByteString.CopyFrom(value.Span) } };
        KvReply reply = await WriteAsync(request, key, deadline, cancellationToken).ConfigureAwait(false);
        return reply.Revision;
    }

    /// <summary>Sets a UTF-8 key to a UTF-8 value; see <see cref="PutAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, TimeSpan?, CancellationToken)"/>.</summary>
    public Task<ulong> PutAsync(string key, string value, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), deadline, cancellationToken);

    /// <summary>Reads <paramref name="key"/>, linearizably.</summary>
    /// <returns>The pair, or null when the key is absent.</returns>
    /// <exception cref="KvException">InvalidArgument, TooLarge, Unavailable or Timeout.</exception>
    public Task<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        GetAsync(key, ReadConsistency.Linearizable, deadline, cancellationToken);

    /// <summary>Reads <paramref name="key"/> with the given <paramref name="consistency"/>: linearizable, or serializable
    /// (one replica's applied state, possibly behind the newest write, and cheaper: no quorum round).</summary>
    /// <returns>The pair, or null when the key is absent.</returns>
    /// <exception cref="KvException">InvalidArgument, TooLarge, Unavailable or Timeout.</exception>
    public async Task<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, ReadConsistency consistency, TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var request = new KvRequest
        {
            Get = new GetRequest { Key = ByteString.CopyFrom(key.Span), Serializable = consistency == ReadConsistency.Serializable },
        };
        Validate(request);
        ShardSession[] sessions = await SessionsAsync(deadline, cancellationToken).ConfigureAwait(false);
        int shard = ShardMap.ShardOfKey(key.Span, sessions.Length).Value;
        KvReply reply = await ReadAsync(request, shard, deadline, cancellationToken).ConfigureAwait(false);
        return reply.Get.Found ? KvEntry.From(reply.Get.Kv) : null;
    }

    /// <summary>Reads a UTF-8 key; see <see cref="GetAsync(ReadOnlyMemory{byte}, TimeSpan?, CancellationToken)"/>.</summary>
    public Task<KvEntry?> GetAsync(string key, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        GetAsync(Encoding.UTF8.GetBytes(key), deadline, cancellationToken);

    /// <summary>Removes <paramref name="key"/>.</summary>
    /// <returns>True if the key existed and was removed; false if it was absent.</returns>
    /// <exception cref="KvException">InvalidArgument, TooLarge, Unavailable or Timeout.</exception>
    public async Task<bool> DeleteAsync(ReadOnlyMemory<byte> key, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new KvRequest { Delete = new DeleteRequest { Key = ByteString.CopyFrom(key.Span) } };
        KvReply reply = await WriteAsync(request, key, deadline, cancellationToken).ConfigureAwait(false);
        return reply.Delete.Deleted > 0;
    }

    /// <summary>Removes a UTF-8 key; see <see cref="DeleteAsync(ReadOnlyMemory{byte}, TimeSpan?, CancellationToken)"/>.</summary>
    public Task<bool> DeleteAsync(string key, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(Encoding.UTF8.GetBytes(key), deadline, cancellationToken);

    /// <summary>Writes <paramref name="newValue"/> to <paramref name="key"/> only if the key is as <paramref name="expected"/>.</summary>
    /// <returns>Whether it was written, and the pair now (the new one, or the one that failed the expectation).</returns>
    /// <exception cref="KvException">InvalidArgument, TooLarge, Unavailable or Timeout.</exception>
    public async Task<KvCasResult> CompareAndSwapAsync(ReadOnlyMemory<byte> key, CasExpectation expected, ReadOnlyMemory<byte> newValue,
        TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var cas = new CompareAndSwapRequest { Key = ByteString.CopyFrom(key.Span), NewValue = ByteString.CopyFrom(newValue.Span) };
        if (expected.ExpectAbsent) cas.ExpectAbsent = true;
        else if (expected.ExpectedValue is { } value) cas.ExpectedValue = ByteString.CopyFrom(value.Span);
        else cas.ExpectedModRevision = expected.ExpectedModRevision;
        KvReply reply = await WriteAsync(new KvRequest { CompareAndSwap = cas }, key, deadline, cancellationToken).ConfigureAwait(false);
        return new KvCasResult(reply.CompareAndSwap.Succeeded, KvEntry.From(reply.CompareAndSwap.Current));
    }

    /// <summary>The pairs in [<paramref name="start"/>, <paramref name="end"/>) in ascending key order, across every
    /// shard, at most <paramref name="limit"/> of them.</summary>
    /// <param name="start">The first key, inclusive: 1..4096 bytes (the one byte 0x00 starts at the first key).</param>
    /// <param name="end">The key after the range, exclusive; empty for "to the last key".</param>
    /// <param name="limit">At most this many pairs; 0 for the largest page (<see cref="KvLimits.MaxRangeLimit"/>).</param>
    /// <param name="deadline">How long the call may take; <see cref="KvClientOptions.RequestDeadline"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait (a write already sent may still apply).</param>
    /// <returns>The pairs, and whether more follow the last one (ask again from just after it).</returns>
    /// <exception cref="KvException">InvalidArgument, TooLarge, Unavailable or Timeout.</exception>
    public async Task<KvRangeResult> RangeAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit = 0,
        TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        if (limit < 0) throw new KvException(ErrorCode.InvalidArgument, $"range limit is {limit}; it must be 0 (no limit of your own) or more");
        var request = new KvRequest
        {
            Range = new RangeRequest { Start = ByteString.CopyFrom(start.Span), End = ByteString.CopyFrom(end.Span), Limit = (uint)limit },
        };
        Validate(request);
        ShardSession[] sessions = await SessionsAsync(deadline, cancellationToken).ConfigureAwait(false);
        // One request object for every shard: reads carry no session, so nothing in it changes after it is sent.
        var replies = new Task<KvReply>[sessions.Length];
        for (int shard = 0; shard < sessions.Length; shard++) replies[shard] = ReadAsync(request, shard, deadline, cancellationToken);
        await Task.WhenAll(replies).ConfigureAwait(false);
        return Merge(replies, limit == 0 ? _options.Limits.MaxRangeLimit : limit);
    }

    /// <summary>The pairs in a range of UTF-8 keys; see <see cref="RangeAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, int, TimeSpan?, CancellationToken)"/>.</summary>
    public Task<KvRangeResult> RangeAsync(string start, string end, int limit = 0, TimeSpan? deadline = null, CancellationToken cancellationToken = default) =>
        RangeAsync(Encoding.UTF8.GetBytes(start), Encoding.UTF8.GetBytes(end), limit, deadline, cancellationToken);

    /// <summary>
    /// Runs a transaction: if every compare holds, the success ops, else the failure ops, atomically. Every key it
    /// names must be in one shard (give them the same <c>{tag}</c>); Range ops read that shard only.
    /// </summary>
    /// <param name="txn">The transaction; not changed, and not used after the call returns.</param>
    /// <param name="deadline">How long the call may take; <see cref="KvClientOptions.RequestDeadline"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait (a write already sent may still apply).</param>
    /// <returns>Whether the compares held, and one result per op that ran.</returns>
    /// <exception cref="KvException">InvalidArgument (keys in different shards, or no key to place it by),
    /// TooLarge, Unavailable or Timeout.</exception>
    public async Task<TxnResult> TxnAsync(TxnRequest txn, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(txn);
        var request = new KvRequest { Txn = txn.Clone() };
        Validate(request);
        ShardSession[] sessions = await SessionsAsync(deadline, cancellationToken).ConfigureAwait(false);
        int shard = TxnShard(request.Txn, sessions.Length);
        KvReply reply = await SendWriteAsync(request, shard, sessions, deadline, cancellationToken).ConfigureAwait(false);
        return reply.Txn;
    }

    private async Task<KvReply> WriteAsync(KvRequest request, ReadOnlyMemory<byte> key, TimeSpan? deadline, CancellationToken cancellationToken)
    {
        Validate(request);
        ShardSession[] sessions = await SessionsAsync(deadline, cancellationToken).ConfigureAwait(false);
        int shard = ShardMap.ShardOfKey(key.Span, sessions.Length).Value;
        return await SendWriteAsync(request, shard, sessions, deadline, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One write per shard session at a time, numbered in order; the Gateway's retries reuse the number.</summary>
    private async Task<KvReply> SendWriteAsync(KvRequest request, int shard, ShardSession[] sessions, TimeSpan? deadline, CancellationToken cancellationToken)
    {
        TimeSpan budget = deadline ?? _options.RequestDeadline;
        DateTime due = DateTime.UtcNow + budget;
        ShardSession session = sessions[shard];
        if (!await session.Gate.WaitAsync(budget, cancellationToken).ConfigureAwait(false))
            throw new KvException(ErrorCode.Timeout, $"earlier writes of this client to shard {shard} did not finish within the deadline ({budget}); this write was not sent");
        try
        {
            request.ClientId = session.ClientId;
            request.Sequence = ++session.LastSequence;
            KvReply reply = await AskAsync(request, shard, due - DateTime.UtcNow, conflictIsValue: true, cancellationToken).ConfigureAwait(false);
            session.Opened = true;
            return reply;
        }
        catch (KvException e) when (e.Error is ErrorCode.Unavailable or ErrorCode.TooLarge)
        {
            // Certainly not applied, and no copy is left in flight: the next write reuses the number. Skipping it
            // would strand a session that never opened (the shard opens sessions at sequence 1 only).
            session.LastSequence--;
            throw;
        }
        catch (Exception e) when (e is KvException or OperationCanceledException)
        {
            // Timeout or cancellation after sending: the write may still apply under its number, so the number is never
            // reused, and a session the shard has not opened cannot continue at a later number. InvalidArgument (e.g.
            // "session expired": the shard evicted this session) changed nothing, but the session cannot go on either.
            // Either way this shard moves to a fresh client id from sequence 1.
            if (!session.Opened || e is KvException { Error: ErrorCode.InvalidArgument })
            {
                session.ClientId = NewClientId();
                session.LastSequence = 0;
                session.Opened = false;
            }
            throw;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    private static ByteString NewClientId() => ByteString.CopyFrom(RandomNumberGenerator.GetBytes(KvLimits.ClientIdBytes));

    private Task<KvReply> ReadAsync(KvRequest request, int shard, TimeSpan? deadline, CancellationToken cancellationToken) =>
        AskAsync(request, shard, deadline ?? _options.RequestDeadline, conflictIsValue: false, cancellationToken);

    private async Task<KvReply> AskAsync(KvRequest request, int shard, TimeSpan remaining, bool conflictIsValue, CancellationToken cancellationToken)
    {
        if (remaining <= TimeSpan.Zero)
            throw new KvException(ErrorCode.Timeout, $"the deadline passed before the request was sent to shard {shard}");
        KvReply reply;
        try
        {
            // The Gateway answers by the deadline; the grace lets its answer (with its reason) win over the ask's timeout.
            reply = await _transport.SendAsync(new ShardRequest { Shard = (uint)shard, Request = request, DeadlineMs = (uint)Math.Ceiling(remaining.TotalMilliseconds) }, remaining + AskGrace, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new KvException(ErrorCode.Timeout,
                $"shard {shard}: no answer within {remaining}; a write may have applied (a retry by the Gateway applies once)", e);
        }
        return reply.Error switch
        {
            ErrorCode.Ok => reply,
            ErrorCode.Conflict when conflictIsValue => reply,
            ErrorCode.NotLeader => throw new KvException(ErrorCode.Unavailable, reply.Message),
            _ => throw new KvException(reply.Error, reply.Message),
        };
    }

    private static readonly TimeSpan AskGrace = TimeSpan.FromMilliseconds(500);

    private void Validate(KvRequest request)
    {
        ValidationResult verdict = _options.Limits.Validate(request);
        if (!verdict.IsOk) throw new KvException(verdict.Error, verdict.Message);
    }

    /// <summary>The per-shard sessions; the first call asks the Gateway for the shard count.</summary>
    private async Task<ShardSession[]> SessionsAsync(TimeSpan? deadline, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _sessions) is { } known) return known;
        TimeSpan timeout = deadline ?? _options.RequestDeadline;
        ShardCount count;
        try
        {
            count = await _transport.AskAsync<ShardCount>(new GetShardCount(), timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new KvException(ErrorCode.Unavailable, _transport.NoAnswer(timeout), e);
        }
        var sessions = new ShardSession[checked((int)count.Count)];
        for (int i = 0; i < sessions.Length; i++) sessions[i] = new ShardSession(_clientId);
        return Interlocked.CompareExchange(ref _sessions, sessions, null) ?? sessions;   // the first one wins
    }

    private static int TxnShard(TxnRequest txn, int shardCount)
    {
        int shard = -1;
        foreach (Compare compare in txn.Compares) shard = SameShard(compare.Key, shardCount, shard);
        foreach (Op op in txn.Success) shard = OpShard(op, shardCount, shard);
        foreach (Op op in txn.Failure) shard = OpShard(op, shardCount, shard);
        if (shard < 0)
            throw new KvException(ErrorCode.InvalidArgument, "the txn names no key outside Range ops, so it cannot be placed on a shard");
        return shard;
    }

    private static int OpShard(Op op, int shardCount, int shard) => op.OpCase switch
    {
        Op.OpOneofCase.Put => SameShard(op.Put.Key, shardCount, shard),
        Op.OpOneofCase.Delete => SameShard(op.Delete.Key, shardCount, shard),
        Op.OpOneofCase.Get => SameShard(op.Get.Key, shardCount, shard),
        _ => shard,
    };

    private static int SameShard(ByteString key, int shardCount, int shard)
    {
        int keyShard = ShardMap.ShardOfKey(key.Span, shardCount).Value;
        if (shard >= 0 && shard != keyShard)
            throw new KvException(ErrorCode.InvalidArgument,
                $"the txn's keys belong to shards {shard} and {keyShard}; a txn runs on one shard (give related keys the same {{hash tag}})");
        return keyShard;
    }

    /// <summary>
    /// Merges each shard's first pairs in key order. A shard that has more than it returned bounds the result: keys
    /// after its last returned key may exist there, so nothing past that key is returned and <c>More</c> is set.
    /// </summary>
    private static KvRangeResult Merge(Task<KvReply>[] replies, int limit)
    {
        var all = new List<KeyValue>();
        ByteString? bound = null;
        foreach (Task<KvReply> task in replies)
        {
            RangeResult range = task.Result.Range;
            all.AddRange(range.Kvs);
            if (range.More && range.Kvs.Count > 0)
            {
                ByteString last = range.Kvs[^1].Key;
                if (bound is null || last.Span.SequenceCompareTo(bound.Span) < 0) bound = last;
            }
        }
        all.Sort(static (a, b) => a.Key.Span.SequenceCompareTo(b.Key.Span));
        var entries = new List<KvEntry>(Math.Min(all.Count, limit));
        bool more = bound is not null;
        foreach (KeyValue kv in all)
        {
            if (bound is not null && kv.Key.Span.SequenceCompareTo(bound.Span) > 0) break;
            if (entries.Count == limit)
            {
                more = true;
                break;
            }
            entries.Add(KvEntry.From(kv)!);
        }
        return new KvRangeResult(entries, more);
    }
}
