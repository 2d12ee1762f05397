using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using KvActors.Node.Hosting;
using KvActors.Node.Topology;

namespace KvActors.Node.Placement;

/// <summary>
/// One per node: notices that the seeds formed two Akka clusters and ends the smaller one (a safety net:
/// <see cref="ClusterJoiner"/> founds only with a majority of the seeds, but Akka's own first-seed rule still applies to
/// a seed whose data directory is empty). Every
/// <see cref="NodeSettings.FormationRetryInterval"/> it asks the other seeds (<see cref="MembershipQuery"/>); a seed that
/// is a member of a cluster that knows neither this node's incarnation nor is known to it, and that is larger (or as
/// large with a lower lowest address), three rounds running, makes this node restart itself and join that cluster.
/// </summary>
internal sealed class IslandWatcher : ReceiveActor, IWithTimers
{
    private sealed record Ask
    {
        public static Ask Instance { get; } = new();
    }

    private const int Rounds = 3;

    private readonly NodeOptions _options;
    private readonly NodeSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly Dictionary<string, int> _strikes = new(StringComparer.Ordinal);
    private bool _leaving;

    public IslandWatcher(NodeOptions options, NodeSettings settings)
    {
        _options = options;
        _settings = settings;
        Receive<Ask>(_ => OnAsk());
        Receive<MembershipAnswer>(OnAnswer);
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the watcher of the node started with <paramref name="options"/>.</summary>
    public static Props Props(NodeOptions options, NodeSettings settings) => Akka.Actor.Props.Create(() => new IslandWatcher(options, settings));

    /// <inheritdoc />
    protected override void PreStart() => Timers.StartPeriodicTimer("ask", Ask.Instance, _settings.FormationRetryInterval);

    private void OnAsk()
    {
        if (!AkkaMembership.IsMember(Context.System))
        {
            _strikes.Clear();
            return;
        }
        AkkaMembership.AskOtherSeeds(Context, _options);
    }

    private void OnAnswer(MembershipAnswer answer)
    {
        UniqueAddress[] mine = [.. AkkaMembership.Live(_cluster).Select(m => m.UniqueAddress)];
        if (!mine.Contains(_cluster.SelfUniqueAddress) || !ShouldYield(answer, mine))
        {
            _strikes.Remove(answer.Endpoint);
            return;
        }
        int strikes = _strikes[answer.Endpoint] = _strikes.GetValueOrDefault(answer.Endpoint) + 1;
        if (strikes < Rounds || _leaving) return;
        _leaving = true;
        _log.Warning("Node {Node}: seed {Seed} is in another Akka cluster ({Theirs} members) that does not know this node; this one has {Mine}. " +
                     "Two clusters formed while the seeds were cut off from each other; restarting to join the larger",
            _options.NodeId, answer.Endpoint, answer.Members, mine.Length);
        CoordinatedShutdown.Get(Context.System).Run(IslandReason.Instance);
    }

    /// <summary>
    /// Whether <paramref name="answer"/> comes from a member of another cluster than ours (whose members are
    /// <paramref name="mine"/>), one that neither side knows to hold the other, and that should be the one to survive:
    /// it is larger, or as large with a lower lowest address (both sides compute the same).
    /// </summary>
    public static bool ShouldYield(MembershipAnswer answer, IReadOnlyCollection<UniqueAddress> mine)
    {
        Address theirs = NodePaths.AddressOf(answer.Endpoint);
        bool sameCluster = !answer.Member || answer.IncludesAsker || mine.Any(m => m.Address.Equals(theirs) && m.Uid == answer.Uid);
        if (sameCluster) return false;
        return answer.Members > mine.Count
               || (answer.Members == mine.Count && string.CompareOrdinal(answer.Lowest, AkkaMembership.Lowest(mine.Select(m => m.Address))) < 0);
    }
}

/// <summary>Why a node stopped: it was in the smaller of two Akka clusters the seeds formed (<see cref="IslandWatcher"/>).</summary>
public sealed class IslandReason : RejoinReason
{
    /// <summary>The one instance.</summary>
    public static readonly IslandReason Instance = new();

    private IslandReason()
    {
    }

    /// <inheritdoc />
    public override string Description => "it was in the smaller of two clusters the seeds formed while cut off from each other";
}
