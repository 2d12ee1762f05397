using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;

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

    /// <summary>One line for a request no Gateway answered within <paramref name="timeout"/>, naming whom it asked.</summary>
    public abstract string NoAnswer(TimeSpan timeout);

    /// <summary>Releases what the transport created; the caller's own actors and systems are left alone.</summary>
    public virtual ValueTask DisposeAsync() => default;

    protected static string Seconds(TimeSpan timeout) => $"{timeout.TotalSeconds:0.###} s";
}

/// <summary>Straight to one Gateway actor, local or remote: a client inside the cluster.</summary>
internal sealed class DirectGatewayTransport(IActorRef gateway) : GatewayTransport
{
    public override Task<T> AskAsync<T>(object message, TimeSpan timeout, CancellationToken cancellationToken) =>
        gateway.Ask<T>(message, timeout, cancellationToken);

    public override string NoAnswer(TimeSpan timeout) => $"the gateway {gateway.Path} did not answer within {Seconds(timeout)}";
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
    }

    // Local affinity: the receptionist that took the request hands it to the Gateway of its own node, one hop fewer.
    public override Task<T> AskAsync<T>(object message, TimeSpan timeout, CancellationToken cancellationToken) =>
        _clusterClient.Ask<T>(new ClusterClient.Send(KvClientConfig.GatewayPath, message, localAffinity: true), timeout, cancellationToken);

    public override string NoAnswer(TimeSpan timeout) => $"no node answered at {_contactPoints} within {Seconds(timeout)}";

    public override async ValueTask DisposeAsync()
    {
        if (_ownsSystem) await _system.Terminate().ConfigureAwait(false);
        else _system.Stop(_clusterClient);
    }
}
