using KvActors.Client;
using KvActors.Node.Hosting;
using KvActors.Node.Placement;
using KvActors.Protocol;

namespace KvActors.Cluster.Tests;

/// <summary>
/// Seed-node deployment with real nodes (<see cref="KvNode"/>): a cluster forms from its seed list alone with
/// deterministic placement, a restarted node keeps its identity and data, a wiped seed comes back as a new replica,
/// a node whose settings disagree with the cluster or that reaches no seed refuses to start and writes nothing, and a
/// restarted first seed founds the Akka cluster only when no other may be running.
/// </summary>
public sealed class NodeFormationTests
{
    [Fact]
    public async Task Three_seeds_form_with_the_placement_every_seed_computes_and_serve_through_any_gateway()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 3);

        ClusterIdentity[] identities = await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();

        for (int i = 0; i < 3; i++)
        {
            identities[i].ReplicaId.Should().Be(ReplicaIds.Initial(nodes.Endpoints[i]).Value);
            identities[i].Hosted.Should().Equal(ReplicaIds.InitialShards(nodes.Endpoints[i], nodes.Endpoints, nodes.Shards, 3));
            ClusterIdentity.Load(nodes.DataDirectory(i)).Should().BeEquivalentTo(identities[i], "the identity is on disk");
            FormedSeeds.Load(nodes.DataDirectory(i)).Formed.Should().BeEquivalentTo(nodes.Endpoints, "every seed acknowledged every formation");
        }
        KvClient client = KvClient.Create(nodes.Node(1).Gateway);
        for (int k = 0; k < 20; k++) await client.PutAsync($"formed/{k}", $"v{k}");
        KvClient other = KvClient.Create(nodes.Node(2).Gateway);
        for (int k = 0; k < 20; k++) (await other.GetAsync($"formed/{k}"))!.ValueText.Should().Be($"v{k}");
    }

    [Fact]
    public async Task A_restarted_node_keeps_its_replica_id_and_its_data()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 3);
        ClusterIdentity[] before = await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 20; k++) await client.PutAsync($"restart/{k}", $"v{k}");

        await nodes.StopAsync(2);
        ClusterIdentity after = await nodes.Start(2).Identity.WaitAsync(TestCluster.Wait);
        await nodes.AwaitLeadersAsync();

        after.Should().BeEquivalentTo(before[2]);
        KvClient restarted = KvClient.Create(nodes.Node(2).Gateway);
        for (int k = 0; k < 20; k++) (await restarted.GetAsync($"restart/{k}"))!.ValueText.Should().Be($"v{k}");
    }

    [Fact]
    public async Task A_wiped_seed_comes_back_as_a_new_replica_that_hosts_nothing_and_the_cluster_keeps_serving()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 3);
        ClusterIdentity[] before = await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();

        await nodes.StopAsync(2);
        Directory.Delete(nodes.DataDirectory(2), recursive: true);
        ClusterIdentity after = await nodes.Start(2).Identity.WaitAsync(TestCluster.Wait);

        after.ReplicaId.Should().NotBe(before[2].ReplicaId, "an empty replica must never answer to the id of one that voted");
        after.Hosted.Should().BeEmpty("it is added back by a membership change, not by reusing its old place");
        FormedSeeds.Load(nodes.DataDirectory(2)).Formed.Should().BeEquivalentTo(nodes.Endpoints, "it relearned what the cluster knows");
        await nodes.AwaitLeadersAsync();      // every shard still has a majority of its initial replicas
        KvClient client = KvClient.Create(nodes.Node(2).Gateway);
        await client.PutAsync("wiped/a", "1");
        (await client.GetAsync("wiped/a"))!.ValueText.Should().Be("1");
    }

    [Fact]
    public async Task A_node_whose_seeds_do_not_include_it_joins_as_a_new_replica_and_its_gateway_serves_every_shard()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 4);
        string[] seeds = nodes.Endpoints[..3];
        ClusterIdentity[] formed = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => nodes.Start(i, nodes.Options(i, seeds: seeds)).Identity))
            .WaitAsync(TestCluster.Wait);
        await nodes.AwaitLeadersAsync();

        ClusterIdentity joined = await nodes.Start(3, nodes.Options(3, seeds: seeds)).Identity.WaitAsync(TestCluster.Wait);

        joined.ReplicaId.Should().NotBe(0).And.NotBe(ReplicaIds.Initial(nodes.Endpoints[3]).Value);
        formed.Select(f => f.ReplicaId).Should().NotContain(joined.ReplicaId);
        joined.Hosted.Should().BeEmpty("replicas move to a new node by membership changes, not at join");
        KvClient client = KvClient.Create(nodes.Node(3).Gateway);
        string[] keys = KeysCoveringEveryShard("joined/", nodes.Shards);
        foreach (string key in keys) await client.PutAsync(key, "v");
        (await client.RangeAsync("joined/", "joined0")).Entries.Select(e => e.KeyText).Should().BeEquivalentTo(keys);
    }

    private static string[] KeysCoveringEveryShard(string prefix, int shards)
    {
        var keys = new Dictionary<int, string>();
        for (int k = 0; keys.Count < shards; k++)
        {
            string key = $"{prefix}{k}";
            keys.TryAdd((int)ShardMap.ShardOfKey(System.Text.Encoding.UTF8.GetBytes(key), shards).Value, key);
        }
        return [.. keys.Values];
    }

    [Fact]
    public async Task A_node_restarted_with_another_shard_count_is_refused_naming_the_flag()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 1, shards: 4, replication: 1);
        await nodes.StartAllAsync();
        await nodes.StopAsync(0);

        var act = () => nodes.Start(0, nodes.Options(0, shards: 8));

        act.Should().Throw<NodeStartException>().WithMessage("*created with 4 shards, but --shards 8 was given*");
    }

    [Fact]
    public async Task A_seed_whose_shard_count_disagrees_with_the_other_seeds_is_refused_and_writes_no_identity()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 2, shards: 4, replication: 1);
        nodes.Start(0);

        KvNode odd = nodes.Start(1, nodes.Options(1, shards: 8));
        Func<Task> decided = () => odd.Identity.WaitAsync(TestCluster.Wait);

        await decided.Should().ThrowAsync<NodeStartException>().WithMessage("*created with 4 shards, but --shards 8 was given*");
        ClusterIdentity.Load(nodes.DataDirectory(1)).Should().BeNull();
    }

    [Fact]
    public async Task A_seed_that_reaches_no_other_seed_is_refused_after_the_join_timeout_and_changes_nothing()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 2, shards: 4, replication: 1,
            "kvactors.node { join-timeout = 3s, formation-retry-interval = 200ms }");

        KvNode lonely = nodes.Start(0);      // node 1 never starts
        Func<Task> decided = () => lonely.Identity.WaitAsync(TestCluster.Wait);

        await decided.Should().ThrowAsync<NodeStartException>().WithMessage($"*seeds {nodes.Endpoints[1]} did not answer within 3 s*");
        string[] written = Directory.Exists(nodes.DataDirectory(0)) ? Directory.GetFiles(nodes.DataDirectory(0)) : [];
        written.Should().BeEmpty("a node that refuses to start leaves its data directory as it found it");
    }

    [Fact]
    public async Task A_whole_cluster_restarted_founds_at_once_because_a_majority_of_seeds_says_it_is_in_no_cluster()
    {
        // restart-unjoined-after far beyond the wait: only the majority-says-no path can found the cluster in time.
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 3, shards: 4, replication: 3,
            "kvactors.node { restart-unjoined-after = 10m, formation-retry-interval = 200ms }");
        await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        for (int i = 0; i < 3; i++) await nodes.StopAsync(i);

        for (int i = 2; i >= 0; i--) nodes.Start(i);      // the first seed last: the others are already asking to join

        await TestCluster.AwaitAsync(() => Task.FromResult(Enumerable.Range(0, 3).All(i =>
            Akka.Cluster.Cluster.Get(nodes.System(i)).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 3)));
        await nodes.AwaitLeadersAsync();
    }

    [Fact]
    public async Task A_restarted_first_seed_that_no_other_seed_answers_founds_no_cluster_of_its_own_and_restarts_itself()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 2, shards: 2, replication: 1,
            "kvactors.node { restart-unjoined-after = 3s, formation-retry-interval = 200ms }");
        await nodes.StartAllAsync();
        await nodes.StopAsync(1);
        await nodes.StopAsync(0);

        nodes.Start(0);                                   // node 1 stays down: nobody answers
        Akka.Actor.ActorSystem system = nodes.System(0);
        bool wasMember = false;
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => wasMember = true);
        await system.WhenTerminated.WaitAsync(TestCluster.Wait);

        Akka.Actor.CoordinatedShutdown.Get(system).ShutdownReason.Should().BeOfType<UnjoinedReason>(
            "a node kept out of the cluster restarts with fresh connections (NodeProcess runs it again)");
        wasMember.Should().BeFalse("alone it is no majority of the seeds, so it must not found a cluster another may be running without it");
    }
}
