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
/// <param name="BindPort">
/// The port it listens on when that is not the one others reach it by (<paramref name="Port"/>): behind a port
/// forward, NAT or a proxy. Null: it listens on <paramref name="Port"/>.
/// </param>
public sealed partial record NodeOptions(string NodeId, string Host, int Port, IReadOnlyList<string> Seeds, string DataDirectory,
    int Shards = NodeOptions.DefaultShards, int Replication = NodeOptions.DefaultReplication, int? BindPort = null)
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

    /// <summary>Whether this node is the first seed: the one that founds the Akka cluster.</summary>
    public bool IsFirstSeed => Seeds.Count > 0 && Seeds[0] == Endpoint;

    /// <summary>Null when the options are usable; otherwise what is wrong, in one line naming the option.</summary>
    public string? Problem()
    {
        if (!NodeIdPattern().IsMatch(NodeId))
            return $"--node-id '{NodeId}' is not a short name (1 to 32 letters, digits, '-' or '_', e.g. n1)";
        if (Port is < 1 or > 65535) return $"--port {Port} is not a TCP port (1..65535)";
        if (BindPort is < 1 or > 65535) return $"--bind-port {BindPort} is not a TCP port (1..65535)";
        if (Seeds.Count == 0) return "--seeds is empty: name the seed nodes as host:port,...";
        if (Shards is < 1 or > MaxShards) return $"--shards {Shards} must be between 1 and {MaxShards}";
        if (Replication < 1) return $"--replication {Replication} must be at least 1";
        if (Replication > Seeds.Count)
            return $"--replication {Replication} needs at least {Replication} seeds, but --seeds names {Seeds.Count}";
        if (string.IsNullOrWhiteSpace(DataDirectory)) return "--data-dir is empty";
        return null;
    }

    /// <summary>The Akka settings that make an ActorSystem this node: remoting on its endpoint, cluster seeds, downing.</summary>
    /// <param name="memberBefore">
    /// The data directory records an identity: the node was a member before, and joins through the other seeds only.
    /// </param>
    public Config AkkaConfig(bool memberBefore = false)
    {
        // Akka's first seed founds a cluster by itself when no other seed answers within seconds, which splits the
        // cluster when the others run but are out of reach for a moment. A node that was a member before leaves itself
        // out of the list and so only joins; ClusterJoiner decides when the first seed may found (unless it is the
        // only seed, where founding alone is all there is).
        IEnumerable<string> joinThrough = memberBefore && Seeds.Count > 1 ? Seeds.Where(s => s != Endpoint) : Seeds;
        string seeds = string.Join(", ", joinThrough.Select(s => $"\"{Topology.NodePaths.AddressOf(s)}\""));
        // Behind a forward the node listens on BindPort and tells its peers Port: Akka's public-port is the address
        // it is known by (and the endpoint in seed lists), port the socket it binds.
        string bind = BindPort is { } listen
            ? string.Create(CultureInfo.InvariantCulture, $"""
                akka.remote.dot-netty.tcp.port = {listen}
                akka.remote.dot-netty.tcp.public-hostname = "{Host}"
                akka.remote.dot-netty.tcp.public-port = {Port}
                """)
            : string.Create(CultureInfo.InvariantCulture, $"akka.remote.dot-netty.tcp.port = {Port}");
        return ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = "{Host}"
            {bind}
            akka.cluster.seed-nodes = [{seeds}]
            """));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex NodeIdPattern();

    /// <summary>Parses a comma-separated seed list into normalised endpoints.</summary>
    /// <exception cref="FormatException">An empty list or a malformed endpoint; the message names it.</exception>
    public static IReadOnlyList<string> ParseSeeds(string seeds) => Endpoints.ParseList(seeds);
}
