using Akka.Configuration;

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

    /// <summary>Reads <c>kvactors.shard-manager</c> from <paramref name="config"/>.</summary>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names it.</exception>
    public static ShardManagerSettings From(Config config)
    {
        Config c = config.GetConfig("kvactors.shard-manager")
            ?? throw new ConfigurationException("kvactors.shard-manager is missing; include hocon/sharding.conf");
        var settings = new ShardManagerSettings
        {
            PollInterval = Positive(c, "poll-interval"),
            PollTimeout = Positive(c, "poll-timeout"),
        };
        if (settings.PollTimeout > settings.PollInterval)
            throw new ConfigurationException("kvactors.shard-manager.poll-timeout must not exceed kvactors.shard-manager.poll-interval");
        return settings;
    }

    private static TimeSpan Positive(Config c, string key) =>
        c.GetTimeSpan(key) is var span && span > TimeSpan.Zero
            ? span
            : throw new ConfigurationException($"kvactors.shard-manager.{key} must be a positive duration");
}
