using Akka.Configuration;
using KvActors.Node.Hosting;

namespace KvActors.Node.Routing;

/// <summary>
/// How a node's Gateway routes and retries, read once from HOCON <c>kvactors.gateway</c> (defaults and reasons in
/// <c>hocon/kvactors.conf</c>). Invalid values fail at start with the key's name.
/// </summary>
public sealed record GatewaySettings
{
    /// <summary>How long the Gateway keeps retrying a request before it answers Timeout or Unavailable.</summary>
    public TimeSpan RequestDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one attempt at one replica may take before the Gateway tries another.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The most replicas tried for one request (hint-following included).</summary>
    public int MaxAttempts { get; init; } = 30;

    /// <summary>The first backoff before retrying after a failed attempt; it doubles per failure.</summary>
    public TimeSpan BackoffMin { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The longest backoff between two attempts.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The most requests the Gateway has in progress; past it new ones get Unavailable at once.</summary>
    public int MaxPendingRequests { get; init; } = 10_000;

    /// <summary>Reads <c>kvactors.gateway</c> from <paramref name="config"/>.</summary>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names it.</exception>
    public static GatewaySettings From(Config config)
    {
        var c = new SettingsSection(config, "kvactors.gateway", "kvactors.conf");
        var settings = new GatewaySettings
        {
            RequestDeadline = c.PositiveDuration("request-deadline"),
            AttemptTimeout = c.PositiveDuration("attempt-timeout"),
            MaxAttempts = c.GetInt("max-attempts"),
            BackoffMin = c.PositiveDuration("backoff-min"),
            BackoffMax = c.PositiveDuration("backoff-max"),
            MaxPendingRequests = c.GetInt("max-pending-requests"),
        };
        if (settings.MaxAttempts < 1) throw new ConfigurationException("kvactors.gateway.max-attempts must be at least 1");
        if (settings.MaxPendingRequests < 1) throw new ConfigurationException("kvactors.gateway.max-pending-requests must be at least 1");
        if (settings.BackoffMax < settings.BackoffMin)
            throw new ConfigurationException("kvactors.gateway.backoff-max must be at least kvactors.gateway.backoff-min");
        return settings;
    }

    private static TimeSpan Positive(Config c, string key) =>
        c.GetTimeSpan(key) is var span && span > TimeSpan.Zero ? span : throw new ConfigurationException($"kvactors.gateway.{key} must be a positive duration");
}
