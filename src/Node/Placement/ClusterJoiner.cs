using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using KvActors.Node.Hosting;

namespace KvActors.Node.Placement;

/// <summary>
/// Gets a node that was a member before (its data directory has an identity) back into the Akka cluster. Such a node
/// joins through the other seeds only (<see cref="NodeOptions.AkkaConfig"/>): Akka's own rule, where the first seed
/// founds alone when no other seed answers within seconds, split the cluster in two in the chaos runs, when the first
/// seed restarted while the others ran but their replies were lost for a while. Instead:
/// <list type="bullet">
/// <item>the first seed founds the cluster when, in one round of <see cref="MembershipQuery"/>, no seed says it is in
/// a cluster and, counting itself, a majority of the seeds say they are in none (the whole cluster restarted: a running
/// cluster would hold a majority of the seeds, the split brain resolver downs any side without one);</item>
/// <item>any such node still not let in after <see cref="NodeSettings.RestartUnjoinedAfter"/> restarts itself: a new
/// Akka incarnation with fresh connections. A restarted node was seen to hear nothing from its peers, while they heard
/// it, until its next incarnation; a first seed that hears from no seed at all keeps trying this way rather than found
/// a cluster of its own.</item>
/// </list>
/// </summary>
internal sealed class ClusterJoiner : ReceiveActor, IWithTimers
{
    private sealed record Ask
    {
        public static Ask Instance { get; } = new();
    }

    private sealed record GiveUp
    {
        public static GiveUp Instance { get; } = new();
    }

    private readonly NodeOptions _options;
    private readonly NodeSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly HashSet<string> _notMembers = new(StringComparer.Ordinal);
    private bool _memberSeen;

    public ClusterJoiner(NodeOptions options, NodeSettings settings)
    {
        _options = options;
        _settings = settings;
        Receive<Ask>(_ => OnAsk());
        Receive<MembershipAnswer>(OnAnswer);
        Receive<GiveUp>(_ => OnGiveUp());
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the joiner of the node started with <paramref name="options"/>.</summary>
    public static Props Props(NodeOptions options, NodeSettings settings) => Akka.Actor.Props.Create(() => new ClusterJoiner(options, settings));

    /// <summary>
    /// Whether the first seed may found the cluster: no seed said it is in one, and with the first seed itself a
    /// majority of the <paramref name="seeds"/> said they are in none.
    /// </summary>
    public static bool MayFound(int seeds, int notMembers, bool memberSeen) => !memberSeen && 2 * (notMembers + 1) > seeds;

    /// <inheritdoc />
    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("ask", Ask.Instance, TimeSpan.Zero, _settings.FormationRetryInterval);
        Timers.StartSingleTimer("give-up", GiveUp.Instance, _settings.RestartUnjoinedAfter);
    }

    private void OnAsk()
    {
        if (AkkaMembership.IsMember(Context.System))
        {
            Context.Stop(Self);
            return;
        }
        if (!_options.IsFirstSeed) return;       // the others only wait for Akka's join and the watchdog
        // Only the answers of one round count: a seed that said no a minute ago may have founded or joined since.
        _notMembers.Clear();
        _memberSeen = false;
        AkkaMembership.AskOtherSeeds(Context, _options);
    }

    private void OnAnswer(MembershipAnswer answer)
    {
        if (AkkaMembership.IsMember(Context.System)) return;
        if (answer.Member)
        {
            _memberSeen = true;       // it will let this node in through Akka's join
            return;
        }
        _notMembers.Add(answer.Endpoint);
        if (!MayFound(_options.Seeds.Count, _notMembers.Count, _memberSeen)) return;
        _log.Info("Node {Node}: seeds {Seeds} are up and in no cluster, with this one a majority of the seeds (the cluster restarted); as the first seed it founds the cluster",
            _options.NodeId, string.Join(",", _notMembers.Order(StringComparer.Ordinal)));
        _cluster.Join(_cluster.SelfAddress);
        Context.Stop(Self);
    }

    private void OnGiveUp()
    {
        if (AkkaMembership.IsMember(Context.System)) return;
        _log.Warning("Node {Node}: not let into the cluster within {After}; restarting to join again with fresh connections", _options.NodeId,
            _settings.RestartUnjoinedAfter);
        CoordinatedShutdown.Get(Context.System).Run(UnjoinedReason.Instance);
    }
}

/// <summary>Why a node stopped: it was not let back into the cluster in time (<see cref="ClusterJoiner"/>).</summary>
public sealed class UnjoinedReason : RejoinReason
{
    /// <summary>The one instance.</summary>
    public static readonly UnjoinedReason Instance = new();

    private UnjoinedReason()
    {
    }

    /// <inheritdoc />
    public override string Description => "it was not let back into the cluster in time";
}
