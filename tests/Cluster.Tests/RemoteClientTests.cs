using Akka.Actor;
using Akka.Configuration;
using KvActors.Client;
using KvActors.Node.Hosting;
using KvActors.Node.Replica;
using KvActors.Protocol.Serialization;

namespace KvActors.Cluster.Tests;

/// <summary>
/// A client in its own ActorSystem, outside the cluster, reaches a node's Gateway over Akka.Remote: every message
/// on the way (shard count, shard requests, replies) crosses the wire as protobuf, never as JSON.
/// </summary>
public sealed class RemoteClientTests : IAsyncLifetime
{
    private readonly string _root = TestCluster.NewRoot();
    private InProcessCluster _cluster = null!;
    private ActorSystem _client = null!;

    public async Task InitializeAsync()
    {
        _cluster = await InProcessCluster.StartAsync(_root, 3, 4, KvActorsConfig.Hocon("test.conf"));
        Config config = ConfigurationFactory.ParseString("""
                akka.actor.provider = remote
                akka.remote.dot-netty.tcp.hostname = 127.0.0.1
                akka.remote.dot-netty.tcp.port = 0
                akka.loglevel = WARNING
                """)
            .WithFallback(KvSerializer.Config);
        _client = ActorSystem.Create("client", config);
    }

    public async Task DisposeAsync()
    {
        await _client.Terminate();
        await TestCluster.StopAsync(_cluster, _root);
    }

    [Fact]
    public async Task A_client_in_another_ActorSystem_writes_and_reads_through_a_remote_Gateway()
    {
        Address node = ((ExtendedActorSystem)_cluster.System(0)!).Provider.DefaultAddress;
        string gatewayPath = _cluster.Gateway(0)!.Path.ToStringWithAddress(node);
        IActorRef gateway = await _client.ActorSelection(gatewayPath).ResolveOne(TestCluster.Wait);
        KvClient client = KvClient.Create(gateway);

        await TestCluster.AwaitAsync(async () =>
        {
            try
            {
                await client.PutAsync("remote-key", "remote-value");
                return true;
            }
            catch (KvException e) when (e.Error is KvActors.Protocol.Wire.ErrorCode.Unavailable or KvActors.Protocol.Wire.ErrorCode.Timeout)
            {
                return false;                  // shards still electing
            }
        });

        KvEntry? entry = await client.GetAsync("remote-key");

        entry.Should().NotBeNull();
        entry!.ValueText.Should().Be("remote-value");
        foreach (object message in new object[] { new KvActors.Protocol.Wire.ShardRequest(), new KvActors.Protocol.Wire.GetShardCount(),
                     new KvActors.Protocol.Wire.ShardCount(), new KvActors.Protocol.Wire.KvReply() })
            _client.Serialization.FindSerializerFor(message).Should().BeOfType<KvSerializer>(message.GetType().Name + " must not travel as JSON");
    }
}
