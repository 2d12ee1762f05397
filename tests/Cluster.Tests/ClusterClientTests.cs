using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using KvActors.Client;
using KvActors.Protocol.Serialization;
using KvActors.Protocol.Wire;

namespace KvActors.Cluster.Tests;

/// <summary>
/// A client outside the cluster reaches it through Akka's ClusterClient and the receptionists of its contact points:
/// every request works as it does through a local Gateway, a dead contact point is skipped, and nothing crosses the
/// wire as JSON.
/// </summary>
[Collection(ReceptionistClusterCollection.Name)]
public sealed class ClusterClientTests(ReceptionistCluster cluster)
{
    [Fact]
    public async Task Put_get_cas_range_and_delete_work_through_the_contact_points()
    {
        await using KvClient client = KvClient.Connect(cluster.Endpoints);

        ulong revision = await client.PutAsync("rw/a", "1");
        KvEntry? entry = await client.GetAsync("rw/a");
        KvCasResult swapped = await client.CompareAndSwapAsync("rw/a"u8.ToArray(), CasExpectation.Value("1"), "2"u8.ToArray());
        KvCasResult refused = await client.CompareAndSwapAsync("rw/a"u8.ToArray(), CasExpectation.Absent, "3"u8.ToArray());
        await client.PutAsync("rw/b", "b");
        KvRangeResult range = await client.RangeAsync("rw/", "rw0");
        bool deleted = await client.DeleteAsync("rw/a");

        entry!.ValueText.Should().Be("1");
        entry.ModRevision.Should().Be(revision);
        swapped.Succeeded.Should().BeTrue();
        refused.Succeeded.Should().BeFalse();
        refused.Current!.ValueText.Should().Be("2");
        range.Entries.Select(e => e.KeyText + "=" + e.ValueText).Should().Equal("rw/a=2", "rw/b=b");
        deleted.Should().BeTrue();
        (await client.GetAsync("rw/a")).Should().BeNull();
    }

    [Fact]
    public async Task A_contact_list_whose_first_endpoint_is_dead_still_reaches_the_cluster()
    {
        await using KvClient client = KvClient.Connect([ReceptionistCluster.DeadEndpoint(), cluster.Endpoints[1]]);

        await client.PutAsync("cc/dead-first", "alive");

        (await client.GetAsync("cc/dead-first"))!.ValueText.Should().Be("alive");
    }

    [Fact]
    public async Task With_no_contact_point_up_a_request_fails_Unavailable_naming_the_endpoints_within_its_deadline()
    {
        string dead = ReceptionistCluster.DeadEndpoint();
        await using KvClient client = KvClient.Connect([dead], new KvClientOptions { RequestDeadline = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();

        Func<Task> get = () => client.GetAsync("cc/unreachable");

        KvException e = (await get.Should().ThrowAsync<KvException>()).Which;
        e.Error.Should().Be(ErrorCode.Unavailable);
        e.Message.Should().Be($"no node answered at {dead} within 1 s");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_client_in_an_application_ActorSystem_sends_only_protobuf_and_leaves_the_system_running_when_disposed()
    {
        using var system = ActorSystem.Create("application", KvClientConfig.Default);
        KvClient client = KvClient.Create(system, cluster.Endpoints);

        await client.PutAsync("cc/app", "x");
        (await client.GetAsync("cc/app"))!.ValueText.Should().Be("x");
        await client.DisposeAsync();

        var envelope = new Akka.Cluster.Tools.PublishSubscribe.Send(KvClientConfig.GatewayPath, new GetShardCount());
        system.Serialization.FindSerializerFor(envelope).Should().NotBeOfType<Akka.Serialization.NewtonSoftJsonSerializer>(
            "the envelope ClusterClient sends each request in must not travel as JSON");
        system.Serialization.FindSerializerFor(envelope).GetType().Name.Should().Be("DistributedPubSubMessageSerializer");
        foreach (object message in new object[] { new ShardRequest(), new GetShardCount(), new GetClusterStatus(), new ClusterStatus(), new KvReply() })
            system.Serialization.FindSerializerFor(message).Should().BeOfType<KvSerializer>(message.GetType().Name + " must not travel as JSON");
        system.WhenTerminated.IsCompleted.Should().BeFalse("the application owns its ActorSystem");
    }

    [Fact]
    public async Task An_ActorSystem_without_the_client_config_is_refused_rather_than_sending_json()
    {
        using var plain = ActorSystem.Create("plain", ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = WARNING
            """));

        Action create = () => KvClient.Create(plain, cluster.Endpoints);

        create.Should().Throw<ArgumentException>().WithMessage("*KvClientConfig.Default*");
        await plain.Terminate();
    }

    [Fact]
    public void Malformed_contact_points_are_refused_before_anything_starts()
    {
        FluentActions.Invoking(() => KvClient.Connect(["nope"])).Should().Throw<FormatException>().WithMessage("*nope*");
        FluentActions.Invoking(() => KvClient.Connect([])).Should().Throw<FormatException>();
        KvClientConfig.ReceptionistPaths(["127.0.0.1:7101"]).Single().ToString()
            .Should().Be("akka.tcp://kvactors@127.0.0.1:7101/system/receptionist");
    }
}
