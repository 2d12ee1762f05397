using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using KvActors.Protocol.Wire;

namespace KvActors.Client;

/// <summary>
/// How a <see cref="KvClient"/> reaches a Gateway. Every request is one ask that a Gateway answers with one protobuf
/// reply; the two ways differ only in how the ask travels, so every rule about sessions, deadlines and errors lives
/// once, in <see cref="KvClient"/>.
/// </summary>
internal abstract class GatewayTransport : IAsyncDisposable
{
    /// <summary>Sends <paramref name="message"/> to a Gateway and waits up to <paramref name="timeout"/> for its reply.</summary>
    /// <exception cref="AskTimeoutException">No reply within the timeout.</exception>
    public abstract Task<T> AskAsync<T>(object message, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Sends <paramref name="request"/> to a Gateway and waits up to <paramref name="timeout"/> for its reply;
    /// the request's correlation id is set here.</summary>
    /// <exception cref="AskTimeoutException">No reply within the timeout.</exception>
    public abstract Task<KvReply> SendAsync(ShardRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>One line for a request no Gateway answered within <paramref name="timeout"/>, naming whom it asked.</summary>
    public abstract string NoAnswer(TimeSpan timeout);

    /// <summary>Releases what the transport created; the caller's own actors and systems are left alone.</summary>
    public virtual ValueTask DisposeAsync() => default;

    protected static string Seconds(TimeSpan timeout) => $"{timeout.TotalSeconds:0.###} s";
}

/// <summary>Straight to one Gateway actor, local or remote: a client inside the cluster.</summary>
internal sealed class DirectGatewayTransport(IActorRef gateway, ActorSystem system) : GatewayTransport
{
    private readonly ReplyEndpoint _replies = new(system);

    public override Task<T> AskAsync<T>(object message, TimeSpan timeout, CancellationToken cancellationToken) =>
        gateway.Ask<T>(message, timeout, cancellationToken);

    public override async Task<KvReply> SendAsync(ShardRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        (await _replies.CallAsync(request, (r, sender) => gateway.Tell(r, sender), timeout, cancellationToken).ConfigureAwait(false)).Reply;

    public override string NoAnswer(TimeSpan timeout) => $"the gateway {gateway.Path} did not answer within {Seconds(timeout)}";

    public override ValueTask DisposeAsync()
    {
        _replies.Dispose();
        return default;
    }
}

/// <summary>
/// Through Akka's ClusterClient: the client actor finds a receptionist among the contact points (and the cluster
/// members they name) and keeps one; each request is delivered to a Gateway registered with the receptionists.
/// </summary>
internal sealed class ClusterClientTransport : GatewayTransport
{
    private readonly ActorSystem _system;
    private readonly IActorRef _clusterClient;
    private readonly bool _ownsSystem;
    private readonly string _contactPoints;

    public ClusterClientTransport(ActorSystem system, IReadOnlyList<ActorPath> receptionists, string contactPoints, bool ownsSystem)
    {
        _system = system;
        _ownsSystem = ownsSystem;
        _contactPoints = contactPoints;
        ClusterClientSettings settings = ClusterClientSettings.Create(system).WithInitialContacts(receptionists.ToImmutableHashSet());
        _clusterClient = system.ActorOf(ClusterClient.Props(settings), $"kvclient-{Guid.NewGuid():N}");
        _replies = new ReplyEndpoint(system);
    }

    private readonly ReplyEndpoint _replies;
    private readonly ConcurrentDictionary<string, IActorRef?> _gateways = new();   // by node address; null while resolving
    private readonly ConcurrentDictionary<uint, IActorRef> _leaderGateway = new(); // by shard: a value of _gateways

    /// <summary>
    /// To the Gateway on the node of the shard's leader when a reply has named it (one hop fewer for the request and
    /// for its answer: no receptionist, no response tunnel, no forwarding to another node), else through ClusterClient.
    /// A request without an answer within <see cref="Patience"/> (its node may be gone) goes once more to each other
    /// Gateway this client knows, then through ClusterClient: ClusterClient notices a dead receptionist only after its
    /// heartbeat pause, and the other Gateways forward to whichever replica leads now.
    /// </summary>
    public override async Task<KvReply> SendAsync(ShardRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        uint shard = request.Shard;
        IActorRef? leader = _leaderGateway.GetValueOrDefault(shard);
        IActorRef[]? others = null;      // listed only when the first way went unanswered: rare
        (GatewayReply reply, int sent) = await _replies.CallAsync(request, SendWay, timeout, cancellationToken, Patience).ConfigureAwait(false);
        Learn(shard, reply.LeaderNode);
        // One Gateway's Unavailable says only that its own attempts did not apply: another copy of the request may
        // still, so for the caller the outcome is unknown (its sequence number must not be reused).
        if (sent > 1 && reply.Reply.Error == ErrorCode.Unavailable)
            return new KvReply { Error = ErrorCode.Timeout, Message = $"{reply.Reply.Message}; the request also went to another node, where it may still apply" };
        return reply.Reply;

        // Way 0: the leader's Gateway, else ClusterClient (no leader known: it may know better than our list). Then
        // every other known Gateway, then ClusterClient when it was not the first.
        bool SendWay(int way, ShardRequest r, IActorRef sender)
        {
            if (way == 0)
            {
                if (leader is null) ViaClusterClient(r, sender);
                else leader.Tell(r, sender);
                return true;
            }
            if (way == 1 && leader is not null) Forget(leader);
            others ??= [.. _gateways.Values.OfType<IActorRef>().Distinct().Where(g => !g.Equals(leader))];
            if (way - 1 < others.Length) others[way - 1].Tell(r, sender);
            else if (way - 1 == others.Length && leader is not null) ViaClusterClient(r, sender);
            else return false;
            return true;
        }
    }

    private void ViaClusterClient(ShardRequest request, IActorRef sender) =>
        _clusterClient.Tell(new ClusterClient.Send(KvClientConfig.GatewayPath, request, localAffinity: true), sender);

    /// <summary>How long a request waits for an answer before it also goes another way: the Gateway's own attempt
    /// timeout, so a live Gateway that is still retrying is rarely doubled.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Drops a Gateway that left a request unanswered, for every shard, and its resolution: a node that restarted has a
    /// new Gateway at the same address, which the old reference no longer reaches.
    /// </summary>
    private void Forget(IActorRef gateway)
    {
        foreach (KeyValuePair<uint, IActorRef> route in _leaderGateway)
        {
            if (route.Value.Equals(gateway)) _leaderGateway.TryRemove(route);
        }
        foreach (KeyValuePair<string, IActorRef?> resolved in _gateways)
        {
            if (gateway.Equals(resolved.Value)) _gateways.TryRemove(resolved);
        }
    }

    private void Learn(uint shard, string leaderNode)
    {
        if (leaderNode.Length == 0) return;
        if (_gateways.TryGetValue(leaderNode, out IActorRef? gateway))
        {
            if (gateway is not null) _leaderGateway[shard] = gateway;
            return;
        }
        if (!_gateways.TryAdd(leaderNode, null)) return;      // someone else resolves it
        _ = ResolveAsync(leaderNode);
    }

    private async Task ResolveAsync(string node)
    {
        try
        {
            IActorRef gateway = await _system.ActorSelection(node + KvClientConfig.GatewayPath).ResolveOne(ResolveTimeout).ConfigureAwait(false);
            _gateways[node] = gateway;
        }
        catch (Exception e) when (e is ActorNotFoundException or AskTimeoutException or ArgumentException)
        {
            // Not reachable directly (or not a node address): the shard stays on ClusterClient; a later reply retries.
            _gateways.TryRemove(node, out _);
        }
    }

    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    // Local affinity: the receptionist that took the request hands it to the Gateway of its own node, one hop fewer.
    public override Task<T> AskAsync<T>(object message, TimeSpan timeout, CancellationToken cancellationToken) =>
        _clusterClient.Ask<T>(new ClusterClient.Send(KvClientConfig.GatewayPath, message, localAffinity: true), timeout, cancellationToken);

    public override string NoAnswer(TimeSpan timeout) => $"no node answered at {_contactPoints} within {Seconds(timeout)}";

    public override async ValueTask DisposeAsync()
    {
        if (_ownsSystem) await _system.Terminate().ConfigureAwait(false);
        else
        {
            _system.Stop(_clusterClient);
            _replies.Dispose();
        }
    }
}
