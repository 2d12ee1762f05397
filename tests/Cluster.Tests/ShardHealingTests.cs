using Akka.Actor;
using KvActors.Client;
using KvActors.Node.Hosting;
using KvActors.Node.Placement;
using KvActors.Node.Topology;
using KvActors.Protocol.Wire;
using Microsoft.Data.Sqlite;

namespace KvActors.Cluster.Tests;

/// <summary>
/// Shard managers heal their shards (real nodes in ActorSystems of this process, <c>heal-after</c> shortened to 3 s):
/// a stopped node's replicas are rebuilt on the spare node as learners and swapped in as voters with nothing lost;
/// when the node returns, it deletes the replicas it no longer owns (a later replica of one of those shards would get a
/// new id); a node that joins takes its share of replicas; a node host refuses requests that make no sense.
/// </summary>
public sealed class ShardHealingTests
{
    private const int Shards = 4;
    private const string FastHealing = "kvactors.shard-manager.heal-after = 3s";
    // The healing rules alone: a balancing move would change which node holds what while the test reasons about it.
    private const string NoBalancing = "kvactors.shard-manager.max-concurrent-moves = 0";

    [Fact]
    public async Task A_stopped_nodes_replicas_are_rebuilt_elsewhere_and_deleted_by_the_node_when_it_returns()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 4, Shards, replication: 3, FastHealing, NoBalancing);
        ClusterIdentity[] identities = await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 40; k++) await client.PutAsync($"heal/{k}", $"v{k}");

        // The node other than the client's with the most replicas.
        int victim = Enumerable.Range(1, 3).MaxBy(i => identities[i].Hosted.Count);
        ClusterIdentity lost = identities[victim];
        lost.Hosted.Should().NotBeEmpty();
        await nodes.StopAsync(victim);

        // Voters named by live nodes only: the stopped node stays known, down, and named, until its replicas are replaced.
        string[] live = [.. identities.Where(i => i.NodeId != lost.NodeId).Select(i => i.NodeId)];
        await TestCluster.AwaitAsync(async () =>
        {
            ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5));
            return status.Shards.Count == Shards && status.Shards.All(s =>
                s.HasLeader && s.Voters.Count == 3 && s.Voters.All(live.Contains) && s.Learners.Count == 0);
        });
        for (int k = 0; k < 40; k++) (await client.GetAsync($"heal/{k}"))!.ValueText.Should().Be($"v{k}", "healing loses nothing");
        for (int k = 40; k < 60; k++) await client.PutAsync($"heal/{k}", $"v{k}");

        nodes.Start(victim);
        await nodes.Node(victim).Identity.WaitAsync(TestCluster.Wait);
        await TestCluster.AwaitAsync(() => Task.FromResult(
            ClusterIdentity.Load(nodes.DataDirectory(victim)) is { Hosted.Count: 0 } now && now.Removed.SequenceEqual(lost.Hosted)
            && lost.Hosted.All(shard => LiveRows(nodes.DataDirectory(victim), lost.ReplicaId, shard) == 0)));

        ClusterStatus after = await client.StatusAsync(TimeSpan.FromSeconds(3));
        after.Shards.Should().OnlyContain(s => s.Voters.Count == 3 && !s.Voters.Contains(lost.NodeId), "the returning node took nothing back");
        for (int k = 0; k < 60; k++) (await client.GetAsync($"heal/{k}"))!.ValueText.Should().Be($"v{k}");

        ActorSelection host = nodes.System(victim).ActorSelection($"/user/{NodePaths.Replicas}");
        ReplicaHostAnswer again = await host.Ask<ReplicaHostAnswer>(new AddReplica { Shard = (uint)lost.Hosted[0], Reason = "test" }, TimeSpan.FromSeconds(3));
        again.Refusal.Should().BeEmpty("the node may host the shard again");
        again.ReplicaId.Should().Be(ReplicaIds.ForShard(new Raft.Ids.ReplicaId(lost.ReplicaId), lost.Hosted[0], removals: 1).Value)
            .And.NotBe(lost.ReplicaId, "a replica id that voted is never reused");
    }

    [Fact]
    public async Task A_node_that_joins_takes_its_share_of_replicas_at_most_two_moves_at_a_time()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 4, Shards, replication: 3);
        string[] seeds = nodes.Endpoints[..3];
        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => nodes.Start(i, nodes.Options(i, seeds: seeds)).Identity)).WaitAsync(TestCluster.Wait);
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 40; k++) await client.PutAsync($"balance/{k}", $"v{k}");

        ClusterIdentity joined = await nodes.Start(3, nodes.Options(3, seeds: seeds)).Identity.WaitAsync(TestCluster.Wait);
        joined.Hosted.Should().BeEmpty("a node that joins starts with nothing; balancing brings it replicas");
        int mostMoving = 0;
        string last = "no status yet";
        Task balanced = TestCluster.AwaitAsync(async () =>
        {
            ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5));
            mostMoving = Math.Max(mostMoving, status.Shards.Count(s => s.Move.Length > 0));
            int[] hosted = [.. Enumerable.Range(0, 4).Select(i => ClusterIdentity.Load(nodes.DataDirectory(i))?.Hosted.Count ?? -1)];
            last = $"replicas hosted per node {string.Join(",", hosted)}; " + string.Join("; ", status.Shards.Select(s =>
                $"shard {s.Id}: voters {string.Join(",", s.Voters)} learners {string.Join(",", s.Learners)} leader {(s.HasLeader ? s.Leader : "-")} {s.Move}"));
            // 4 shards of 3 replicas on 4 nodes: every node ends with 3 (within one of the others), and each old
            // replica is deleted by its node.
            int[] voting = [.. Enumerable.Range(0, 4).Select(i => status.Shards.Count(s => s.Voters.Contains(nodes.Node(i).Identity.Result.NodeId)))];
            return status.Shards.Count == Shards && status.Shards.All(s => s.HasLeader && s.Voters.Count == 3 && s.Learners.Count == 0 && s.Move.Length == 0)
                && voting.All(v => v == 3) && hosted.SequenceEqual(voting);
        }, within: TimeSpan.FromSeconds(90));
        try
        {
            await balanced;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last seen: {last}", e);
        }

        mostMoving.Should().BeInRange(1, 2, "moves are limited to max-concurrent-moves (2) in the whole cluster");
        for (int k = 0; k < 40; k++) (await client.GetAsync($"balance/{k}"))!.ValueText.Should().Be($"v{k}", "moving replicas loses nothing");
    }

    [Fact]
    public async Task A_move_its_manager_did_not_start_is_finished_with_the_learner_already_there()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 5, Shards, replication: 3, "kvactors.shard-manager.heal-after = 4s", NoBalancing);
        ClusterIdentity[] identities = await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 20; k++) await client.PutAsync($"move/{k}", $"v{k}");
        // A shard, one of its voters to lose (not the client's node), and the two nodes without it.
        const int shard = 0;
        int victim = Enumerable.Range(1, 4).First(i => identities[i].Hosted.Contains(shard));
        int[] spares = [.. Enumerable.Range(0, 5).Where(i => !identities[i].Hosted.Contains(shard))];
        int chosen = spares[0], other = spares[1];
        await nodes.StopAsync(victim);

        // What a manager that stopped mid-move leaves behind: an empty replica on one spare, added as a learner.
        ActorSelection chosenHost = nodes.System(chosen).ActorSelection($"/user/{NodePaths.Replicas}");
        (await chosenHost.Ask<ReplicaHostAnswer>(new AddReplica { Shard = (uint)shard, Reason = "test" }, TimeSpan.FromSeconds(3))).Refusal.Should().BeEmpty();
        await TestCluster.AwaitAsync(async () =>
        {
            ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5));
            if (status.Shards.Single(s => s.Id == shard) is not { HasLeader: true } led) return false;
            int leader = Enumerable.Range(0, 5).Single(i => identities[i].NodeId == led.Leader);
            if (leader == victim) return false;         // the status can still show the stopped node's last answer
            var replica = new Node.Replica.ReplicaAddress(shard, new Raft.Ids.ReplicaId(identities[leader].ReplicaId));
            MembershipChangeAnswer answer = await nodes.System(leader).ActorSelection($"/user/{NodePaths.Replicas}/{replica.ActorName}")
                .Ask<MembershipChangeAnswer>(new ProposeMembershipChange
                {
                    Shard = (uint)shard, Kind = MembershipChangeKind.MembershipChangeAddLearner, ReplicaId = identities[chosen].ReplicaId,
                }, TimeSpan.FromSeconds(3));
            return answer.Status is "Accepted" or "InvalidChange";      // InvalidChange: already a learner
        });
        // And the manager itself goes: a new one starts on the next status request.
        for (int i = 0; i < 5; i++)
        {
            if (i != victim) nodes.System(i).ActorSelection($"/system/sharding/{NodePaths.ShardManagerType}/{shard}/{shard}").Tell(PoisonPill.Instance);
        }

        await TestCluster.AwaitAsync(async () =>
        {
            ShardStatus s = (await client.StatusAsync(TimeSpan.FromSeconds(5))).Shards.Single(s => s.Id == shard);
            return s.HasLeader && s.Voters.Count == 3 && s.Voters.Contains(identities[chosen].NodeId) && !s.Voters.Contains(identities[victim].NodeId)
                   && s.Learners.Count == 0;
        });
        ClusterIdentity.Load(nodes.DataDirectory(other))!.Hosted.Should().NotContain(shard, "the learner already there took the lost voter's place");
        for (int k = 0; k < 20; k++) (await client.GetAsync($"move/{k}"))!.ValueText.Should().Be($"v{k}");
    }

    [Fact]
    public async Task Three_managers_of_every_shard_heal_it_once_one_change_at_a_time_and_leave_no_extra_replica()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 5, Shards, replication: 3, FastHealing, NoBalancing);
        ClusterIdentity[] identities = await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 20; k++) await client.PutAsync($"managers/{k}", $"v{k}");
        // Besides the one Cluster Sharding runs, two more managers per shard, as a split cluster could have.
        foreach (int node in new[] { 1, 2 })
        {
            var settings = Node.Management.ShardManagerSettings.From(nodes.System(node).Settings.Config);
            for (int shard = 0; shard < Shards; shard++)
                nodes.System(node).ActorOf(Node.Management.ShardManager.Props(shard, settings), $"extra-manager-{shard}");
        }
        int victim = new[] { 3, 4 }.MaxBy(i => identities[i].Hosted.Count);
        identities[victim].Hosted.Should().NotBeEmpty();
        await nodes.StopAsync(victim);
        int[] live = [.. Enumerable.Range(0, 5).Where(i => i != victim)];

        // Watch every shard's leader while they heal: a second change started before the first ended would show as
        // more than one voter coming in or going out at once.
        int widest = 0;
        string last = "no status yet";
        Task healed = TestCluster.AwaitAsync(async () =>
        {
            foreach (ReplicaHealth leader in await LeadersAsync(nodes, live))
                widest = Math.Max(widest, leader.Voters.Union(leader.OutgoingVoters).Count());
            ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5));
            int[] hosts = [.. Enumerable.Range(0, Shards).Select(shard => live.Count(i => ClusterIdentity.Load(nodes.DataDirectory(i))!.Hosted.Contains(shard)))];
            last = $"hosts per shard {string.Join(",", hosts)}; " + string.Join("; ", status.Shards.Select(s =>
                $"shard {s.Id}: voters {string.Join(",", s.Voters)} learners {string.Join(",", s.Learners)} {s.Move}"));
            return status.Shards.Count == Shards && hosts.All(h => h == 3) && status.Shards.All(s =>
                s.HasLeader && s.Voters.Count == 3 && !s.Voters.Contains(identities[victim].NodeId) && s.Learners.Count == 0);
        }, within: TimeSpan.FromSeconds(90));
        try
        {
            await healed;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last seen: {last}", e);
        }
        widest.Should().BeLessThanOrEqualTo(4, "one joint change replaces one voter; two at once would name five");
        for (int k = 0; k < 20; k++) (await client.GetAsync($"managers/{k}"))!.ValueText.Should().Be($"v{k}");
    }

    /// <summary>What the replicas of <paramref name="live"/> that answer as leader say, the newest term per shard.</summary>
    private static async Task<ReplicaHealth[]> LeadersAsync(NodeHarness nodes, int[] live)
    {
        var leaders = new Dictionary<uint, ReplicaHealth>();
        foreach (int i in live)
        {
            ClusterIdentity identity = ClusterIdentity.Load(nodes.DataDirectory(i))!;
            foreach (int shard in identity.Hosted)
            {
                var replica = new Node.Replica.ReplicaAddress(shard, identity.ReplicaOf(shard));
                try
                {
                    ReplicaHealth health = await nodes.System(i).ActorSelection($"/user/{NodePaths.Replicas}/{replica.ActorName}")
                        .Ask<ReplicaHealth>(new GetReplicaHealth(), TimeSpan.FromSeconds(1));
                    if (health.Role == "leader" && (!leaders.TryGetValue(health.Shard, out ReplicaHealth? known) || known.Term < health.Term))
                        leaders[health.Shard] = health;
                }
                catch (AskTimeoutException)
                {
                    // Starting or stopping: the next look asks again.
                }
            }
        }
        return [.. leaders.Values];
    }

    [Fact]
    public async Task Leaders_piled_on_one_node_spread_to_within_one_of_each_other()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 3, Shards, replication: 3);
        ClusterIdentity[] identities = await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 20; k++) await client.PutAsync($"lead/{k}", $"v{k}");

        // Every shard's leader hands leadership to n1 (every node hosts every shard), until n1 is seen leading all.
        await TestCluster.AwaitAsync(async () =>
        {
            ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5));
            foreach (ShardStatus shard in status.Shards.Where(s => s.HasLeader && s.Leader != "n1"))
            {
                int leader = Array.FindIndex(identities, i => i.NodeId == shard.Leader);
                var replica = new Node.Replica.ReplicaAddress((int)shard.Id, new Raft.Ids.ReplicaId(identities[leader].ReplicaId));
                nodes.System(leader).ActorSelection($"/user/{NodePaths.Replicas}/{replica.ActorName}")
                    .Tell(new TransferShardLeadership { Shard = shard.Id, To = identities[0].ReplicaId });
            }
            return status.Shards.Count == Shards && status.Shards.All(s => s.HasLeader && s.Leader == "n1");
        });

        string last = "no status yet";
        try
        {
            await TestCluster.AwaitAsync(async () =>
            {
                ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5));
                int[] leads = [.. identities.Select(i => status.Shards.Count(s => s.HasLeader && s.Leader == i.NodeId))];
                last = $"leaders per node {string.Join(",", leads)}";
                return leads.Sum() == Shards && leads.Max() - leads.Min() <= 1;
            }, within: TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last seen: {last}", e);
        }
        for (int k = 0; k < 20; k++) (await client.GetAsync($"lead/{k}"))!.ValueText.Should().Be($"v{k}", "a leader transfer loses nothing");
    }

    [Fact]
    public async Task A_node_host_refuses_a_shard_that_does_not_exist_and_a_replica_that_is_not_its_own()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 3, Shards, replication: 3, FastHealing);
        ClusterIdentity[] identities = await nodes.StartAllAsync();
        ActorSelection host = nodes.System(0).ActorSelection($"/user/{NodePaths.Replicas}");

        ReplicaHostAnswer noShard = await host.Ask<ReplicaHostAnswer>(new AddReplica { Shard = 99, Reason = "test" }, TimeSpan.FromSeconds(3));
        noShard.Refusal.Should().Be($"there is no shard 99 (the cluster has {Shards})");
        ReplicaHostAnswer notMine = await host.Ask<ReplicaHostAnswer>(
            new RemoveReplica { Shard = (uint)identities[0].Hosted[0], ReplicaId = identities[1].ReplicaId, Reason = "test" }, TimeSpan.FromSeconds(3));
        notMine.Refusal.Should().Be($"node n1 hosts replica {identities[0].ReplicaId} of shard {identities[0].Hosted[0]}, not {identities[1].ReplicaId}");
        ClusterIdentity.Load(nodes.DataDirectory(0)).Should().BeEquivalentTo(identities[0], "a refusal changes nothing");
    }

    /// <summary>Journal rows and snapshots of one replica that are not marked deleted.</summary>
    private static long LiveRows(string dataDirectory, ulong replicaId, int shard)
    {
        string persistenceId = $"raft-{shard}-{replicaId}";
        long rows = 0;
        foreach ((string file, string sql) in (ReadOnlySpan<(string, string)>)
                 [
                     (SqliteFiles.JournalFile, "SELECT count(*) FROM journal WHERE persistence_id = $id AND deleted = 0"),
                     (SqliteFiles.SnapshotFile, "SELECT count(*) FROM snapshot WHERE persistence_id = $id"),
                 ])
        {
            using var connection = new SqliteConnection(SqliteFiles.ConnectionString(Path.Combine(dataDirectory, file)));
            connection.Open();
            using SqliteCommand count = connection.CreateCommand();
            count.CommandText = sql;
            count.Parameters.AddWithValue("$id", persistenceId);
            rows += (long)count.ExecuteScalar()!;
        }
        return rows;
    }
}
