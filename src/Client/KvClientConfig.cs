using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using KvActors.Protocol;
using KvActors.Protocol.Serialization;

namespace KvActors.Client;

/// <summary>
/// The Akka configuration of a client's ActorSystem (<c>hocon/client.conf</c>, embedded in this assembly) and the
/// receptionist paths of contact points.
/// </summary>
public static class KvClientConfig
{
    /// <summary>The name of every node's ActorSystem: the contact points' receptionists live in it.</summary>
    public const string NodeSystemName = "kvactors";

    /// <summary>Where a node's Gateway is registered with the ClusterClient receptionist.</summary>
    public const string GatewayPath = "/user/gateway";

    /// <summary>
    /// An override (the <c>config</c> of <see cref="KvClient.Connect"/>) for a client system that logs nothing: for tools
    /// whose stdout is read by scripts (kvctl) or by people (the <c>local</c> launcher). A contact point that is down is
    /// normal, and Akka.Remote would warn about each one; such tools report every failure themselves.
    /// </summary>
    public const string Silent = """
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        """;

    /// <summary>The text of <c>hocon/client.conf</c>.</summary>
    public static string Hocon { get; } = ReadEmbeddedHocon();

    /// <summary>
    /// Everything a client ActorSystem needs: <c>client.conf</c>, the protobuf serializer (<see cref="KvSerializer.Config"/>)
    /// and Akka.Cluster.Tools' serializers for ClusterClient and the messages it wraps. Use it as the fallback of an
    /// application's own config when handing its ActorSystem to <see cref="KvClient.Create(ActorSystem, IEnumerable{string}, KvClientOptions?)"/>.
    /// </summary>
    public static Config Default { get; } = ConfigurationFactory.ParseString(Hocon)
        .WithFallback(KvSerializer.Config)
        .WithFallback(ClusterClientReceptionist.DefaultConfig())
        .WithFallback(DistributedPubSub.DefaultConfig());

    /// <summary>
    /// The receptionist of each contact point, <c>akka.tcp://kvactors@HOST:PORT/system/receptionist</c>, in order.
    /// </summary>
    /// <param name="contactPoints">Endpoints <c>host:port</c>, checked by <see cref="Endpoints.ParseList"/>.</param>
    /// <exception cref="FormatException">No endpoint, a malformed one, or one named twice.</exception>
    public static IReadOnlyList<ActorPath> ReceptionistPaths(IEnumerable<string> contactPoints)
    {
        ArgumentNullException.ThrowIfNull(contactPoints);
        var paths = new List<ActorPath>();
        foreach (string endpoint in Endpoints.ParseList(string.Join(',', contactPoints)))
        {
            (string host, int port) = Endpoints.Parse(endpoint);
            paths.Add(ActorPath.Parse(string.Create(CultureInfo.InvariantCulture,
                $"akka.tcp://{NodeSystemName}@{(host.Contains(':') ? $"[{host}]" : host)}:{port}/system/receptionist")));
        }
        return paths;
    }

    private static string ReadEmbeddedHocon()
    {
        const string name = "KvActors.Client.client.conf";
        using Stream stream = typeof(KvClientConfig).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
