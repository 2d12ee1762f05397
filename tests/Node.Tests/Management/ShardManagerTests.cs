using Akka.Actor;
using KvActors.Node.Management;
using KvActors.Node.Topology;
using Xunit.Abstractions;
using GetShardStatus = KvActors.Protocol.Wire.GetShardStatus;
using ReplicaStatusEntry = KvActors.Protocol.Wire.ReplicaStatusEntry;
using ShardStatus = KvActors.Protocol.Wire.ShardStatus;

namespace KvActors.Node.Tests.Management;

/// <summary>
/// A shard's manager, a Cluster Sharding entity, against fake replicas: it finds the replicas through the directory and
/// the shard's membership, and reports leader, term, members as node ids, lag, reachability and leader changes.
/// </summary>
public sealed class ShardManagerTests(ITestOutputHelper output) : ShardingTestKit(output)
{
    private const int Shards = 3;

    private void SetNodes(params KnownNode[] nodes) => Directory.Tell(Fake.Nodes(nodes));

    private void Set(int shard, ulong replica, Protocol.Wire.ReplicaHealth? health) => Replicas.Tell(new SetHealth(shard, replica, health));

    /// <summary>n1 and n2 host every shard; n3 hosts none, so it is asked only when a membership names it.</summary>
    private void ThreeNodes(NodeReachability n3 = NodeReachability.Up) => SetNodes(
        Fake.Node("n1", 1, Self, [0, 1, 2]),
        Fake.Node("n2", 2, Self, [0, 1, 2]),
        Fake.Node("n3", 3, Self, [], n3));

    private static Task<ShardStatus> StatusOf(IActorRef managers, int shard) =>
        managers.Ask<ShardStatus>(new GetShardStatus { Shard = (uint)shard }, Wait);

    private static ReplicaStatusEntry Entry(ShardStatus status, string node) => status.Replicas.Single(r => r.Node == node);

    [Fact]
    public async Task Status_names_the_leader_its_term_the_members_as_node_ids_and_each_replicas_lag()
    {
        ThreeNodes();
        Set(0, 1, Fake.Health(0, 1, "leader", term: 5, commit: 10, applied: 10, voters: [1, 2, 9], learners: [3], leader: 1));
        Set(0, 2, Fake.Health(0, 2, "follower", term: 5, commit: 9, applied: 7, voters: [1, 2, 9], learners: [3], leader: 1));
        Set(0, 3, Fake.Health(0, 3, "learner", term: 5, commit: 8, applied: 4, voters: [1, 2, 9], learners: [3], leader: 1));
        IActorRef managers = ShardManagers.Start(Sys, Shards);

        await AwaitAssertAsync(async () =>
        {
            ShardStatus status = await StatusOf(managers, 0);
            status.Id.Should().Be(0u);
            status.HasLeader.Should().BeTrue();
            status.Leader.Should().Be("n1");
            status.Term.Should().Be(5ul);
            status.Commit.Should().Be(10ul);
            status.Voters.Should().Equal("n1", "n2", "replica-9");
            status.Learners.Should().Equal("n3");
            status.Replicas.Select(r => r.Node).Should().Equal("n1", "n2", "n3", "replica-9");
            Entry(status, "n1").Should().BeEquivalentTo(new { Applied = 10ul, Lag = 0ul, Role = "leader", Reachable = true });
            Entry(status, "n2").Should().BeEquivalentTo(new { Applied = 7ul, Lag = 3ul, Role = "follower", Reachable = true });
            Entry(status, "n3").Should().BeEquivalentTo(new { Applied = 4ul, Lag = 6ul, Role = "learner", Reachable = true },
                "n3 does not host shard 0 in the directory, but the membership names its replica");
            Entry(status, "replica-9").Should().BeEquivalentTo(new { Applied = 0ul, Lag = 10ul, Role = "unknown", Reachable = false },
                "no known node answers to replica 9");
        }, Wait, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task The_first_status_request_waits_for_the_first_poll_instead_of_answering_empty()
    {
        ThreeNodes();
        Set(2, 1, Fake.Health(2, 1, "follower", term: 4, commit: 3, applied: 3, voters: [1, 2], leader: 2));
        Set(2, 2, Fake.Health(2, 2, "leader", term: 4, commit: 3, applied: 3, voters: [1, 2], leader: 2));
        IActorRef managers = ShardManagers.Start(Sys, Shards);

        ShardStatus first = await StatusOf(managers, 2);

        first.Leader.Should().Be("n2", "the manager polled before it answered its first request");
        first.Term.Should().Be(4ul);
        first.Replicas.Should().HaveCount(2).And.OnlyContain(r => r.Reachable);
    }

    [Fact]
    public async Task A_replica_that_stops_answering_is_shown_unreachable_with_its_last_applied_index()
    {
        ThreeNodes();
        Set(1, 1, Fake.Health(1, 1, "leader", term: 2, commit: 20, applied: 20, voters: [1, 2], leader: 1));
        Set(1, 2, Fake.Health(1, 2, "follower", term: 2, commit: 20, applied: 15, voters: [1, 2], leader: 1));
        IActorRef managers = ShardManagers.Start(Sys, Shards);
        await AwaitAssertAsync(async () =>
            Entry(await StatusOf(managers, 1), "n2").Should().BeEquivalentTo(new { Applied = 15ul, Reachable = true }),
            Wait, TimeSpan.FromMilliseconds(100));

        Set(1, 2, null);

        await AwaitAssertAsync(async () =>
        {
            ShardStatus status = await StatusOf(managers, 1);
            Entry(status, "n2").Should().BeEquivalentTo(new { Applied = 15ul, Lag = 5ul, Reachable = false });
            Entry(status, "n1").Reachable.Should().BeTrue();
            status.Leader.Should().Be("n1");
        }, Wait, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_new_leader_in_a_higher_term_replaces_the_old_one_and_the_change_is_logged()
    {
        ThreeNodes();
        Set(1, 1, Fake.Health(1, 1, "leader", term: 5, commit: 7, applied: 7, voters: [1, 2], leader: 1));
        Set(1, 2, Fake.Health(1, 2, "follower", term: 5, commit: 7, applied: 7, voters: [1, 2], leader: 1));
        IActorRef managers = ShardManagers.Start(Sys, Shards);
        await AwaitAssertAsync(async () => (await StatusOf(managers, 1)).Leader.Should().Be("n1"), Wait, TimeSpan.FromMilliseconds(100));

        await EventFilter.Info(contains: "Shard 1: leader is now n2 (term 6)").ExpectOneAsync(Wait, () =>
        {
            // n1 has not heard of term 6 yet and still claims to lead term 5: the higher term wins.
            Set(1, 2, Fake.Health(1, 2, "leader", term: 6, commit: 9, applied: 8, voters: [1, 2], leader: 2));
            return Task.CompletedTask;
        });

        ShardStatus status = await StatusOf(managers, 1);
        status.Leader.Should().Be("n2");
        status.Term.Should().Be(6ul);
        status.Commit.Should().Be(9ul);
        Entry(status, "n1").Lag.Should().Be(2ul, "lag is measured against the new leader's commit");
    }
}
