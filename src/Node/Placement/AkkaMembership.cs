using Akka.Actor;
using Akka.Cluster;
using KvActors.Node.Topology;

namespace KvActors.Node.Placement;

/// <summary>
/// A node's view of its Akka cluster as seeds tell each other (<see cref="MembershipQuery"/>): whether it is in one,
/// how large, and whether the asker is in it. <see cref="ClusterJoiner"/> and <see cref="IslandWatcher"/> ask.
/// </summary>
internal static class AkkaMembership
{
    /// <summary>The members that count: joining, weakly up, up or leaving (not down, exiting or removed).</summary>
    public static Member[] Live(Cluster cluster) =>
        [.. cluster.State.Members.Where(m => m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving)];

    /// <summary>Whether this node is joining or a member of a cluster.</summary>
    public static bool IsMember(ActorSystem system)
    {
        Cluster cluster = Cluster.Get(system);
        return Live(cluster).Any(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress));
    }

    /// <summary>
    /// Asks every seed but this node (started with <paramref name="options"/>) which cluster it is in; the answers
    /// come back to the asking actor.
    /// </summary>
    public static void AskOtherSeeds(IActorContext context, Hosting.NodeOptions options)
    {
        var query = new MembershipQuery { Endpoint = options.Endpoint, Uid = Cluster.Get(context.System).SelfUniqueAddress.Uid };
        foreach (string seed in options.Seeds.Where(s => s != options.Endpoint))
            context.ActorSelection(NodePaths.On(NodePaths.AddressOf(seed), NodePaths.Formation)).Tell(query, context.Self);
    }

    /// <summary>This node's answer (it is at <paramref name="endpoint"/>) to <paramref name="query"/>.</summary>
    public static MembershipAnswer Answer(ActorSystem system, string endpoint, MembershipQuery query)
    {
        Cluster cluster = Cluster.Get(system);
        Member[] live = Live(cluster);
        Address asker = NodePaths.AddressOf(query.Endpoint);
        return new MembershipAnswer
        {
            Endpoint = endpoint,
            Uid = cluster.SelfUniqueAddress.Uid,
            Member = live.Any(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress)),
            Members = (uint)live.Length,
            IncludesAsker = live.Any(m => m.Address.Equals(asker) && m.UniqueAddress.Uid == query.Uid),
            Lowest = Lowest(live.Select(m => m.Address)),
        };
    }

    /// <summary>The lowest member address, <c>host:port</c> (empty without members): the same on both sides of a tie.</summary>
    public static string Lowest(IEnumerable<Address> members) =>
        members.Select(a => $"{a.Host}:{a.Port}").Order(StringComparer.Ordinal).FirstOrDefault() ?? "";
}

/// <summary>
/// Why a node stopped to restart itself in place and join again (<see cref="Hosting.NodeProcess"/>): its incarnation
/// can no longer be a member as it is.
/// </summary>
public abstract class RejoinReason : CoordinatedShutdown.Reason
{
    /// <summary>What happened, for the node's log line.</summary>
    public abstract string Description { get; }

    /// <inheritdoc />
    /// <remarks>The node restarts itself in the same process, so this code only shows if it stops for good.</remarks>
    public override int ExitCode => Hosting.NodeCommands.Stopped;
}
