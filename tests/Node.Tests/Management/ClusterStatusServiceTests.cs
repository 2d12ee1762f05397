using Akka.Actor;
using KvActors.Node.Management;
using KvActors.Node.Topology;
using Xunit.Abstractions;
using ClusterStatus = KvActors.Protocol.Wire.ClusterStatus;
using GetClusterStatus = KvActors.Protocol.Wire.GetClusterStatus;

namespace KvActors.Node.Tests.Management;

/// <summary>The status service at <c>/user/status</c>: every known node, and every shard as its manager reports it.</summary>
public sealed class ClusterStatusServiceTests(ITestOutputHelper output) : ShardingTestKit(output)
{
    private const int Shards = 3;

    private void Set(int shard, ulong replica, Protocol.Wire.ReplicaHealth? health) => Replicas.Tell(new SetHealth(shard, replica, health));

    private void StartFakes()
    {
        Directory.Tell(Fake.Nodes(
            Fake.Node("n1", 1, Self, [0, 1, 2]),
            Fake.Node("n2", 2, Self, [0, 1, 2]),
            Fake.Node("n3", 3, Self, [0, 1, 2], NodeReachability.Unreachable)));
        Set(0, 1, Fake.Health(0, 1, "leader", term: 3, commit: 5, applied: 5, voters: [1, 2, 3], leader: 1));
        Set(0, 2, Fake.Health(0, 2, "follower", term: 3, commit: 5, applied: 5, voters: [1, 2, 3], leader: 1));
        Set(1, 1, Fake.Health(1, 1, "follower", term: 8, commit: 2, applied: 2, voters: [1, 2, 3], leader: 2));
        Set(1, 2, Fake.Health(1, 2, "leader", term: 8, commit: 2, applied: 2, voters: [1, 2, 3], leader: 2));
        // Shard 2 is between leaders: everyone follows, nobody leads.
        Set(2, 1, Fake.Health(2, 1, "follower", term: 4, commit: 6, applied: 6, voters: [1, 2, 3]));
        Set(2, 2, Fake.Health(2, 2, "candidate", term: 5, commit: 6, applied: 6, voters: [1, 2, 3]));
    }

    private static void ShouldDescribeTheFakeCluster(ClusterStatus status)
    {
        status.Nodes.Select(n => (n.Id, n.Address, n.Status)).Should().Equal(
            ("n1", "127.0.0.1:7001", "up"), ("n2", "127.0.0.1:7002", "up"), ("n3", "127.0.0.1:7003", "unreachable"));
        status.Shards.Select(s => s.Id).Should().Equal(0u, 1u, 2u);
        status.Shards[0].Leader.Should().Be("n1");
        status.Shards[0].Term.Should().Be(3ul);
        status.Shards[1].Leader.Should().Be("n2");
        status.Shards[1].Term.Should().Be(8ul);
        status.Shards[2].HasLeader.Should().BeFalse("no replica of shard 2 answers as leader");
        status.Shards[2].Term.Should().Be(5ul, "without a leader the highest term heard is shown");
        status.Shards[2].Voters.Should().Equal("n1", "n2", "n3");
        status.Shards[2].Replicas.Single(r => r.Node == "n3").Reachable.Should().BeFalse();
    }

    [Fact]
    public async Task Status_lists_every_node_and_every_shard_including_one_without_a_leader()
    {
        StartFakes();
        IActorRef managers = ShardManagers.Start(Sys, Shards);
        IActorRef service = Sys.ActorOf(ClusterStatusService.Props(managers, Shards, ClusterStatusSettings.From(Sys.Settings.Config)),
            NodePaths.Status);

        await AwaitAssertAsync(async () =>
            ShouldDescribeTheFakeCluster(await service.Ask<ClusterStatus>(new GetClusterStatus(), Wait)),
            Wait, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Many_concurrent_requests_are_all_answered()
    {
        StartFakes();
        IActorRef managers = ShardManagers.Start(Sys, Shards);
        IActorRef service = Sys.ActorOf(ClusterStatusService.Props(managers, Shards, ClusterStatusSettings.From(Sys.Settings.Config)),
            NodePaths.Status);
        await AwaitAssertAsync(async () =>
            ShouldDescribeTheFakeCluster(await service.Ask<ClusterStatus>(new GetClusterStatus(), Wait)),
            Wait, TimeSpan.FromMilliseconds(100));

        ClusterStatus[] answers = await Task.WhenAll(Enumerable.Range(0, 50)
            .Select(_ => service.Ask<ClusterStatus>(new GetClusterStatus(), Wait)));

        answers.Should().HaveCount(50);
        foreach (ClusterStatus answer in answers) ShouldDescribeTheFakeCluster(answer);
    }

    [Fact]
    public async Task A_shard_whose_manager_does_not_answer_in_time_shows_only_its_id()
    {
        StartFakes();
        IActorRef managers = ShardManagers.Start(Sys, Shards);
        // The service believes in a fourth shard; the region has no manager for it, so that shard is never answered.
        var settings = new ClusterStatusSettings { RequestTimeout = TimeSpan.FromSeconds(2) };
        IActorRef service = Sys.ActorOf(ClusterStatusService.Props(managers, Shards + 1, settings), NodePaths.Status);

        await AwaitAssertAsync(async () =>
        {
            ClusterStatus status = await service.Ask<ClusterStatus>(new GetClusterStatus(), Wait);
            status.Shards.Select(s => s.Id).Should().Equal(0u, 1u, 2u, 3u);
            status.Shards[0].Leader.Should().Be("n1");
            status.Shards[3].Should().BeEquivalentTo(new Protocol.Wire.ShardStatus { Id = 3 });
        }, Wait, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task The_service_starts_every_shard_manager_before_anyone_asks_for_status()
    {
        StartFakes();
        IActorRef managers = ShardManagers.Start(Sys, Shards);

        // Only a running manager polls and logs its shard's leader; nobody sends GetShardStatus here.
        await EventFilter.Info(contains: "Shard 1: leader is now n2 (term 8)").ExpectOneAsync(Wait, () =>
        {
            Sys.ActorOf(ClusterStatusService.Props(managers, Shards, ClusterStatusSettings.From(Sys.Settings.Config)), NodePaths.Status);
            return Task.CompletedTask;
        });
    }
}
