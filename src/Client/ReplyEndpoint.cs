using System.Collections.Concurrent;
using Akka.Actor;
using KvActors.Protocol.Wire;

namespace KvActors.Client;

/// <summary>
/// Where Gateways send a client's replies: one long-lived actor per client, so that each request is a plain send with a
/// correlation id rather than an ask. An ask through ClusterClient costs a temporary actor on the client and a response
/// tunnel actor on the node (the receptionist makes one per sender); one sender for every request keeps a single
/// tunnel alive and takes both off the hot path.
/// </summary>
internal sealed class ReplyEndpoint : IDisposable
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<GatewayReply>> _pending = new();
    private readonly ActorSystem _system;
    private long _next;

    public ReplyEndpoint(ActorSystem system)
    {
        _system = system;
        Actor = system.ActorOf(Props.Create(() => new EndpointActor(this)), $"kvclient-replies-{Guid.NewGuid():N}");
    }

    /// <summary>The actor to name as the sender of every request.</summary>
    public IActorRef Actor { get; }

    /// <summary>
    /// Gives <paramref name="request"/> a fresh correlation id, lets <paramref name="send"/> send it with
    /// <see cref="Actor"/> as the sender, and waits up to <paramref name="timeout"/> for its reply.
    /// </summary>
    /// <param name="request">The request; its correlation id is set here.</param>
    /// <param name="send">Sends it with the given sender.</param>
    /// <param name="timeout">How long to wait for the reply in all.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="fallback">When not null: sends the same request (same correlation id, same session and sequence,
    /// so it applies at most once) another way if no reply came within <paramref name="fallbackAfter"/>; the first
    /// reply wins.</param>
    /// <param name="fallbackAfter">How long the first way has before <paramref name="fallback"/> is used.</param>
    /// <exception cref="AskTimeoutException">No reply within the timeout.</exception>
    public async Task<GatewayReply> CallAsync(ShardRequest request, Action<ShardRequest, IActorRef> send, TimeSpan timeout, CancellationToken cancellationToken,
        Action<ShardRequest, IActorRef>? fallback = null, TimeSpan fallbackAfter = default)
    {
        ulong id = (ulong)Interlocked.Increment(ref _next);
        var reply = new TaskCompletionSource<GatewayReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            request.CorrelationId = id;
            send(request, Actor);
            if (fallback is not null && fallbackAfter < timeout)
            {
                using var firstWay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (await Task.WhenAny(reply.Task, Task.Delay(fallbackAfter, firstWay.Token)).ConfigureAwait(false) != reply.Task)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    fallback(request, Actor);
                    timeout -= fallbackAfter;
                }
                else
                {
                    await firstWay.CancelAsync().ConfigureAwait(false);
                }
            }
            return await reply.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new AskTimeoutException($"no reply to request {id} within {timeout}: {e.Message}");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Stops the actor; calls still waiting run into their timeouts.</summary>
    public void Dispose() => _system.Stop(Actor);

    private void Complete(GatewayReply reply)
    {
        // A reply after its call gave up finds nothing: the caller has already answered Timeout.
        reply.Reply ??= new KvReply();
        if (_pending.TryRemove(reply.CorrelationId, out TaskCompletionSource<GatewayReply>? waiting)) waiting.TrySetResult(reply);
    }

    private sealed class EndpointActor(ReplyEndpoint endpoint) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is GatewayReply reply) endpoint.Complete(reply);
            else Unhandled(message);
        }
    }
}
