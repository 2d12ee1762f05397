using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Configuration;
using KvActors.Protocol;

namespace KvActors.Node.Hosting;

/// <summary>What one node is started with: the <c>start</c> command's options.</summary>
/// <param name="NodeId">The operator's short name for the node (<c>n1</c>): letters, digits, '-' and '_', at most 32.</param>
/// <param name="Host">The address the node binds and advertises.</param>
/// <param name="Port">The TCP port it binds and advertises.</param>
/// <param name="Seeds">The seed nodes (<c>host:port</c>); a node whose endpoint is not among them joins an existing cluster.</param>
/// <param name="DataDirectory">Where its SQLite files and identity live.</param>
/// <param name="Shards">The shard count, applied when the cluster is first created.</param>
/// <param name="Replication">Replicas per shard, applied when the cluster is first created.</param>
public sealed partial record NodeOptions(string NodeId, string Host, int Port, IReadOnlyList<string> Seeds, string DataDirectory,
    int Shards = NodeOptions.DefaultShards, int Replication = NodeOptions.DefaultReplication)
{
    /// <summary>The default shard count.</summary>
    public const int DefaultShards = 16;

    /// <summary>The default replication factor.</summary>
    public const int DefaultReplication = 3;

    /// <summary>The largest shard count a cluster may be created with.</summary>
    public const int MaxShards = 4096;

    /// <summary>This node's <c>host:port</c>, as it appears in seed lists.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}");

    /// <summary>Whether this node is one of the seeds (an initial member).</summary>
    public bool IsSeed => Seeds.Contains(Endpoint, StringComparer.Ordinal);

    /// <summary>Null when the options are usable; otherwise what is wrong, in one line naming the option.</summary>
    public string? Problem()
    {
        if (!NodeIdPattern().IsMatch(NodeId))
            return $"--node-id '{NodeId}' is not a short name (1 to 32 letters, digits, '-' or '_', e.g. n1)";
        if (Port is < 1 or > 65535) return $"--port {Port} is not a TCP port (1..65535)";
        if (Seeds.Count == 0) return "--seeds is empty: name the seed nodes as host:port,...";
        if (Shards is < 1 or > MaxShards) return $"--shards {Shards} must be between 1 and {MaxShards}";
        if (Replication < 1) return $"--replication {Replication} must be at least 1";
        if (Replication > Seeds.Count)
            return $"--replication {Replication} needs at least {Replication} seeds, but --seeds names {Seeds.Count}";
        if (string.IsNullOrWhiteSpace(DataDirectory)) return "--data-dir is empty";
        return null;
    }

    /// <summary>The Akka settings that make an ActorSystem this node: remoting on its endpoint, cluster seeds, downing.</summary>
    public Config AkkaConfig()
    {
        string seeds = string.Join(", ", Seeds.Select(s => $"\"{Topology.NodePaths.AddressOf(s)}\""));
        return ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = "{Host}"
            akka.remote.dot-netty.tcp.port = {Port}
            akka.cluster.seed-nodes = [{seeds}]
            """));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex NodeIdPattern();

    /// <summary>Parses a comma-separated seed list into normalised endpoints.</summary>
    /// <exception cref="FormatException">An empty list or a malformed endpoint; the message names it.</exception>
    public static IReadOnlyList<string> ParseSeeds(string seeds) => Endpoints.ParseList(seeds);
}
