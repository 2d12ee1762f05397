using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using KvActors.Client;
using KvActors.Node.Replica;

namespace KvActors.Cluster.Tests;

/// <summary>
/// The eight-shard test cluster of real nodes, whose Gateways are registered with their ClusterClient receptionists:
/// what a client outside the cluster reaches through contact points. Shared by the classes of
/// <see cref="ReceptionistClusterCollection"/>.
/// </summary>
public sealed class ReceptionistCluster : IAsyncLifetime
{
    private readonly string _root = TestCluster.NewRoot();

    public NodeHarness Cluster { get; private set; } = null!;

    /// <summary>Every node's <c>host:port</c>, in node order.</summary>
    public IReadOnlyList<string> Endpoints { get; private set; } = [];

    /// <summary><see cref="Endpoints"/> as kvctl's <c>--endpoints</c> takes them.</summary>
    public string EndpointList => string.Join(',', Endpoints);

    public async Task InitializeAsync()
    {
        Cluster = await TestCluster.StartAsync(_root);     // every node registers its Gateway with its receptionist
        Endpoints = Cluster.Endpoints;
        // Ready when a write goes all the way through a receptionist: the client has found one and every shard leads.
        await using KvClient client = KvClient.Connect(Endpoints, new KvClientOptions { RequestDeadline = TimeSpan.FromSeconds(3) });
        await TestCluster.AwaitAsync(async () =>
        {
            try
            {
                await client.PutAsync("receptionist/ready", "1");
                return true;
            }
            catch (KvException)
            {
                return false;
            }
        });
    }

    public async Task DisposeAsync() => await TestCluster.StopAsync(Cluster, _root);

    /// <summary>A loopback endpoint where nothing listens: a contact point that is down.</summary>
    public static string DeadEndpoint()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }
}

[CollectionDefinition(Name)]
public sealed class ReceptionistClusterCollection : ICollectionFixture<ReceptionistCluster>
{
    public const string Name = "receptionist cluster";
}
