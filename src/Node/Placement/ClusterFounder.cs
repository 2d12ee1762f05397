using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using KvActors.Node.Hosting;
using KvActors.Node.Topology;

namespace KvActors.Node.Placement;

/// <summary>
/// Decides when the first seed, restarted on a data directory that was a member before, founds the Akka cluster by
/// itself. Such a node joins through the other seeds (<see cref="NodeOptions.AkkaConfig"/>), because Akka's own rule,
/// found alone when no other seed answers within seconds, splits the cluster in two whenever the others are running
/// but out of reach for a moment (a partition, or Akka.Remote still gating the address of the process that was just
/// killed). It founds at once only when every other seed says it is in no cluster (the whole cluster restarted), and
/// otherwise after <see cref="NodeSettings.FoundAloneAfter"/> without being let in (the other seeds are gone).
/// </summary>
internal sealed class ClusterFounder : ReceiveActor, IWithTimers
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

    public ClusterFounder(NodeOptions options, NodeSettings settings)
    {
        _options = options;
        Receive<Ask>(_ => OnAsk());
        Receive<MembershipAnswer>(OnAnswer);
        Receive<GiveUp>(_ =>
        {
            if (AkkaMembership.IsMember(Context.System)) return;
            _log.Warning("Node {Node}: no other seed let it into a cluster within {After}; as the first seed it founds the cluster by itself " +
                         "(if the others are running but cut off, the cluster is split until one side restarts)", _options.NodeId, settings.FoundAloneAfter);
            Found();
        });
        _settings = settings;
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("ask", Ask.Instance, TimeSpan.Zero, _settings.FormationRetryInterval);
        Timers.StartSingleTimer("give-up", GiveUp.Instance, _settings.FoundAloneAfter);
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the founder of the node started with <paramref name="options"/>.</summary>
    public static Props Props(NodeOptions options, NodeSettings settings) => Akka.Actor.Props.Create(() => new ClusterFounder(options, settings));

    private IEnumerable<string> OtherSeeds => _options.Seeds.Where(s => s != _options.Endpoint);

    private void OnAsk()
    {
        if (AkkaMembership.IsMember(Context.System))
        {
            Context.Stop(Self);
            return;
        }
        // Only the answers of one round count: a seed that said no a minute ago may have founded or joined since.
        _notMembers.Clear();
        AkkaMembership.AskOtherSeeds(Context, _options);
    }

    private void OnAnswer(MembershipAnswer answer)
    {
        if (answer.Member || AkkaMembership.IsMember(Context.System)) return;     // it will let this node in through Akka's join
        _notMembers.Add(answer.Endpoint);
        if (!OtherSeeds.All(_notMembers.Contains)) return;
        _log.Info("Node {Node}: every other seed is up and in no cluster (the whole cluster restarted); as the first seed it founds the cluster",
            _options.NodeId);
        Found();
    }

    private void Found()
    {
        _cluster.Join(_cluster.SelfAddress);
        Context.Stop(Self);
    }
}
