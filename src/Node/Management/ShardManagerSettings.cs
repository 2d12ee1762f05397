using Akka.Configuration;
using KvActors.Node.Hosting;

namespace KvActors.Node.Management;

/// <summary>
/// How a <see cref="ShardManager"/> watches its shard, read once from HOCON <c>kvactors.shard-manager</c> (defaults and
/// reasons in <c>hocon/sharding.conf</c>). Invalid values fail at start with the key's name.
/// </summary>
public sealed record ShardManagerSettings
{
    /// <summary>How often the manager asks every replica of its shard for its health.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a poll waits for the replicas' answers; one that has not answered by then is shown unreachable. At most
    /// <see cref="PollInterval"/>. Also bounds how long the first status request waits for the first poll.
    /// </summary>
    public TimeSpan PollTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the shard's leader must not have heard from a member before the manager replaces it on another node.</summary>
    public TimeSpan HealAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one healing step (a proposal to the leader, a request to a node) may go unanswered before it is tried again.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a manager waits after asking for a leader transfer before it asks for another (to spread leaders).</summary>
    public TimeSpan LeaderTransferCooldown { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many balancing moves may be in flight in the whole cluster at once (each shard's manager counts them); 0 turns balancing off.</summary>
    public int MaxConcurrentMoves { get; init; } = 2;

    /// <summary>Reads <c>kvactors.shard-manager</c> from <paramref name="config"/>.</summary>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names it.</exception>
    public static ShardManagerSettings From(Config config)
    {
        var c = new SettingsSection(config, "kvactors.shard-manager", "sharding.conf");
        var settings = new ShardManagerSettings
        {
            PollInterval = c.PositiveDuration("poll-interval"),
            PollTimeout = c.PositiveDuration("poll-timeout"),
            HealAfter = c.PositiveDuration("heal-after"),
            StepTimeout = c.PositiveDuration("step-timeout"),
            LeaderTransferCooldown = c.PositiveDuration("leader-transfer-cooldown"),
            MaxConcurrentMoves = c.GetInt("max-concurrent-moves") is var moves and >= 0 ? moves : throw c.Invalid("max-concurrent-moves", "must be 0 (no balancing) or more"),
        };
        if (settings.PollTimeout > settings.PollInterval)
            throw new ConfigurationException("kvactors.shard-manager.poll-timeout must not exceed kvactors.shard-manager.poll-interval");
        return settings;
    }

}
