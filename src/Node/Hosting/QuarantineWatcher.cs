using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace KvActors.Node.Hosting;

/// <summary>
/// Stops the node (to restart and rejoin, <see cref="NodeProcess"/>) when a cluster member quarantined it: Akka.Remote
/// never talks to a quarantined incarnation again, so its replicas would be cut off from that member for good.
/// Quarantine by something that is not a member (a client) is logged and otherwise ignored.
/// </summary>
internal sealed class QuarantineWatcher : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public QuarantineWatcher(string nodeId)
    {
        Receive<ThisActorSystemQuarantinedEvent>(e =>
        {
            bool byMember = Cluster.Get(Context.System).State.Members.Any(m => m.Address.Equals(e.RemoteAddress));
            if (!byMember)
            {
                _log.Warning("Node {Node}: {Remote}, not a cluster member, quarantined this node; ignored", nodeId, e.RemoteAddress);
                return;
            }
            _log.Warning("Node {Node}: cluster member {Remote} quarantined this node, which can then never talk to it again; restarting to rejoin",
                nodeId, e.RemoteAddress);
            CoordinatedShutdown.Get(Context.System).Run(QuarantinedReason.Instance);
        });
    }

    public static Props Props(string nodeId) => Akka.Actor.Props.Create(() => new QuarantineWatcher(nodeId));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ThisActorSystemQuarantinedEvent));
}

/// <summary>Why a node stopped: a cluster member quarantined it (<see cref="QuarantineWatcher"/>).</summary>
public sealed class QuarantinedReason : Placement.RejoinReason
{
    /// <summary>The one instance.</summary>
    public static readonly QuarantinedReason Instance = new();

    private QuarantinedReason()
    {
    }

    /// <inheritdoc />
    public override string Description => "a cluster member quarantined it after losing messages to it";
}
