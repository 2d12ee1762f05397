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
    /// <exception cref="AskTimeoutException">No reply within the timeout.</exception>
    public async Task<GatewayReply> CallAsync(ShardRequest request, Action<ShardRequest, IActorRef> send, TimeSpan timeout, CancellationToken cancellationToken) =>
        (await CallAsync(request, (_, r, sender) =>
        {
            send(r, sender);
            return true;
        }, timeout, cancellationToken, patience: timeout).ConfigureAwait(false)).Reply;

    /// <summary>
    /// As <see cref="CallAsync(ShardRequest, Action{ShardRequest, IActorRef}, TimeSpan, CancellationToken)"/>, sending
    /// the request way 0 of <paramref name="sendWay"/> and, each time <paramref name="patience"/> passes without a
    /// reply, the next way, until <paramref name="sendWay"/> answers that it has no more. Every copy has the same
    /// correlation id, session and sequence, so the request applies at most once; the first reply wins.
    /// </summary>
    /// <returns>The reply, and how many ways the request went.</returns>
    /// <exception cref="AskTimeoutException">No reply within the timeout.</exception>
    public async Task<(GatewayReply Reply, int Sent)> CallAsync(ShardRequest request, Func<int, ShardRequest, IActorRef, bool> sendWay,
        TimeSpan timeout, CancellationToken cancellationToken, TimeSpan patience)
    {
        ulong id = (ulong)Interlocked.Increment(ref _next);
        var reply = new TaskCompletionSource<GatewayReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            request.CorrelationId = id;
            sendWay(0, request, Actor);
            int sent = 1;
            while (patience < timeout)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (await Task.WhenAny(reply.Task, Task.Delay(patience, wait.Token)).ConfigureAwait(false) == reply.Task)
                {
                    await wait.CancelAsync().ConfigureAwait(false);
                    break;
                }
                cancellationToken.ThrowIfCancellationRequested();
                timeout -= patience;
                if (!sendWay(sent, request, Actor)) break;
                sent++;
            }
            return (await reply.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false), sent);
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
