using Akka.Configuration;
using KvActors.Node.Hosting;

namespace KvActors.Node.Management;

/// <summary>
/// How a node's <see cref="ClusterStatusService"/> answers and keeps the shard managers alive, read once from HOCON
/// <c>kvactors.status</c> (defaults and reasons in <c>hocon/sharding.conf</c>). Invalid values fail at start with the
/// key's name.
/// </summary>
public sealed record ClusterStatusSettings
{
    /// <summary>How long one status request waits for the shard managers; a shard whose manager is silent by then is
    /// reported with its id alone.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the service asks Cluster Sharding to start any shard manager that is not running.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most status requests in progress at once; past it a request is dropped (its asker times out).</summary>
    public int MaxPendingRequests { get; init; } = 100;

    /// <summary>Reads <c>kvactors.status</c> from <paramref name="config"/>.</summary>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names it.</exception>
    public static ClusterStatusSettings From(Config config)
    {
        var c = new SettingsSection(config, "kvactors.status", "sharding.conf");
        var settings = new ClusterStatusSettings
        {
            RequestTimeout = c.PositiveDuration("request-timeout"),
            KeepAliveInterval = c.PositiveDuration("keep-alive-interval"),
            MaxPendingRequests = c.GetInt("max-pending-requests"),
        };
        if (settings.MaxPendingRequests < 1) throw new ConfigurationException("kvactors.status.max-pending-requests must be at least 1");
        return settings;
    }

}
