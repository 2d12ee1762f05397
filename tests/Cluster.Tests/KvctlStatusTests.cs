using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Configuration;
using KvActors.Cli;
using KvActors.Client;
using KvActors.Protocol.Serialization;
using KvActors.Protocol.Wire;

namespace KvActors.Cluster.Tests;

/// <summary>
/// <see cref="KvClient.StatusAsync(TimeSpan?, CancellationToken)"/> and <c>kvctl status</c> against a fake Gateway that
/// answers <see cref="GetClusterStatus"/> with a canned <see cref="ClusterStatus"/>, registered with the ClusterClient
/// receptionist of a one-node cluster, as a node registers its Gateway.
/// </summary>
public sealed class KvctlStatusTests : IAsyncLifetime
{
    private static readonly ClusterStatus Canned = new()
    {
        Nodes =
        {
            new NodeStatus { Id = "n1", Address = "127.0.0.1:7101", Status = "up", Replicas = 2, Leading = 1 },
            new NodeStatus { Id = "n2", Address = "127.0.0.1:7102", Status = "unreachable", Draining = true, Replicas = 1 },
        },
        Shards =
        {
            new ShardStatus
            {
                Id = 0, Leader = "n1", Term = 3, Commit = 12, Voters = { "n1", "n2" },
                Replicas =
                {
                    new ReplicaStatusEntry { Node = "n1", Applied = 12, Lag = 0, Role = "leader", Reachable = true },
                    new ReplicaStatusEntry { Node = "n2", Applied = 9, Lag = 3, Role = "follower", Reachable = false },
                },
            },
            new ShardStatus { Id = 1, Term = 2, Voters = { "n1" }, Learners = { "n2" } },   // no leader: absent, printed as null
        },
    };

    private ActorSystem _node = null!;
    private string _endpoint = null!;
    private IActorRef _gateway = null!;

    public async Task InitializeAsync()
    {
        Config config = ConfigurationFactory.ParseString("""
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp.hostname = 127.0.0.1
                akka.remote.dot-netty.tcp.port = 0
                akka.loglevel = WARNING
                akka.cluster.downing-provider-class = ""
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                """)
            .WithFallback(KvSerializer.Config);
        _node = ActorSystem.Create(KvClientConfig.NodeSystemName, config);
        Address address = ((ExtendedActorSystem)_node).Provider.DefaultAddress;
        await Akka.Cluster.Cluster.Get(_node).JoinAsync(address);
        _gateway = _node.ActorOf(Props.Create(() => new StatusGateway(Canned)), "gateway");
        ClusterClientReceptionist.Get(_node).RegisterService(_gateway);
        _endpoint = $"{address.Host}:{address.Port}";
    }

    public async Task DisposeAsync() => await _node.Terminate();

    [Fact]
    public async Task StatusAsync_returns_the_gateways_answer()
    {
        await using KvClient client = KvClient.Connect([_endpoint]);

        ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(10));

        status.Should().Be(Canned);
        status.Shards[1].HasLeader.Should().BeFalse();
    }

    [Fact]
    public async Task Status_prints_a_table_of_nodes_and_one_of_shards()
    {
        KvctlRun run = await KvctlRun.Of("--endpoints", _endpoint, "status");

        run.Code.Should().Be(KvctlExitCode.Ok, run.ToString());
        string[] lines = run.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        lines.Should().ContainMatch("NODE*ADDRESS*STATUS*REPLICAS*LEADING");
        lines.Should().ContainMatch("n1 *127.0.0.1:7101 *up *2 *1");
        lines.Should().ContainMatch("n2 *127.0.0.1:7102 *unreachable, draining *1 *0");
        lines.Should().ContainMatch("SHARD*LEADER*TERM*COMMIT*VOTERS*LEARNERS*REPLICAS*");
        lines.Should().ContainMatch("0 *n1 *3 *12 *n1,n2 *- *n1 12/0, n2 9/3 unreachable");
        lines.Should().ContainMatch("1 *- *2 *0 *n1 *n2 *-");
    }

    [Fact]
    public async Task Json_status_is_one_object_with_nodes_and_shards_and_a_null_leader_when_there_is_none()
    {
        KvctlRun run = await KvctlRun.Of("--endpoints", _endpoint, "--json", "status");
        JsonElement json = run.Json();

        run.Code.Should().Be(0, run.ToString());
        json.PropertyNames().Should().Equal("nodes", "shards");
        JsonElement n2 = json.GetProperty("nodes")[1];
        n2.PropertyNames().Should().Equal("id", "address", "status", "draining", "replicas", "leading");
        n2.GetProperty("status").GetString().Should().Be("unreachable");
        n2.GetProperty("draining").GetBoolean().Should().BeTrue();
        n2.GetProperty("replicas").GetUInt32().Should().Be(1);
        JsonElement led = json.GetProperty("shards")[0];
        led.PropertyNames().Should().Equal("id", "leader", "term", "voters", "learners", "replicas", "commit", "move");
        led.GetProperty("leader").GetString().Should().Be("n1");
        led.GetProperty("term").GetUInt64().Should().Be(3);
        led.GetProperty("voters").EnumerateArray().Select(v => v.GetString()).Should().Equal("n1", "n2");
        led.GetProperty("learners").GetArrayLength().Should().Be(0);
        JsonElement follower = led.GetProperty("replicas")[1];
        follower.PropertyNames().Should().Equal("node", "applied", "lag", "role", "reachable");
        follower.GetProperty("node").GetString().Should().Be("n2");
        follower.GetProperty("applied").GetUInt64().Should().Be(9);
        follower.GetProperty("lag").GetUInt64().Should().Be(3);
        follower.GetProperty("reachable").GetBoolean().Should().BeFalse();
        JsonElement leaderless = json.GetProperty("shards")[1];
        leaderless.GetProperty("leader").ValueKind.Should().Be(JsonValueKind.Null);
        leaderless.GetProperty("learners").EnumerateArray().Select(v => v.GetString()).Should().Equal("n2");
        leaderless.GetProperty("replicas").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task Node_remove_waits_while_a_shard_does_not_report_and_ends_when_every_shard_reports_without_the_node()
    {
        _gateway.Tell(Silent);
        KvctlRun waiting = await KvctlRun.Of("--endpoints", _endpoint, "node", "remove", "n3", "--wait", "2");
        waiting.Code.Should().Be(KvctlExitCode.Unavailable, "shard 2 did not report, so it may still have a replica on n3: " + waiting);
        waiting.ErrLines.Should().Equal("kvctl: some shards still have a replica on n3 after 2 s; the removal goes on (kvctl status shows the moves)");

        _gateway.Tell(Canned);
        KvctlRun removed = await KvctlRun.Of("--endpoints", _endpoint, "--json", "node", "remove", "n3", "--wait", "2");
        removed.Code.Should().Be(KvctlExitCode.Ok, removed.ToString());
        removed.Out.Should().Be("{\"node\":\"n3\",\"removed\":true}" + Environment.NewLine);
    }

    /// <summary>Canned with a shard whose manager did not answer: it shows only its id.</summary>
    private static readonly ClusterStatus Silent = new(Canned) { Shards = { new ShardStatus { Id = 2 } } };

    /// <summary>Answers status requests with the last status it was told (Canned at first), and node commands with "done".</summary>
    private sealed class StatusGateway : ReceiveActor
    {
        public StatusGateway(ClusterStatus status)
        {
            Receive<ClusterStatus>(next => status = next);
            Receive<GetClusterStatus>(_ => Sender.Tell(status.Clone()));
            Receive<RemoveNode>(remove => Sender.Tell(new NodeCommandAnswer { NodeId = remove.NodeId }));
        }
    }
}
