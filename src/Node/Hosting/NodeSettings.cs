using Akka.Configuration;

namespace KvActors.Node.Hosting;

/// <summary>How a node starts and joins (<c>kvactors.node</c> in <c>hocon/kvactors.conf</c>).</summary>
public sealed record NodeSettings
{
    /// <summary>How often a node without an identity asks the seeds that have not answered yet.</summary>
    public TimeSpan FormationRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a node without an identity waits for the seeds before it refuses to start.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a node the cluster downed or quarantined waits before it restarts itself and rejoins.</summary>
    public TimeSpan RejoinAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a node that was a member before tries to get back into the cluster before it restarts itself
    /// (<see cref="Placement.ClusterJoiner"/>).
    /// </summary>
    public TimeSpan RestartUnjoinedAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Reads <c>kvactors.node</c> from <paramref name="config"/>.</summary>
    /// <exception cref="ConfigurationException">A key is missing or not a positive duration; the message names it.</exception>
    public static NodeSettings From(Config config)
    {
        var c = new SettingsSection(config, "kvactors.node", "kvactors.conf");
        return new NodeSettings
        {
            FormationRetryInterval = c.PositiveDuration("formation-retry-interval"),
            JoinTimeout = c.PositiveDuration("join-timeout"),
            RejoinAfter = c.PositiveDuration("rejoin-after"),
            RestartUnjoinedAfter = c.PositiveDuration("restart-unjoined-after"),
        };
    }
}
