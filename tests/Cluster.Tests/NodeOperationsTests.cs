using System.Text.Json;
using KvActors.Client;
using KvActors.Cli;
using KvActors.Node.Placement;
using KvActors.Protocol.Wire;

namespace KvActors.Cluster.Tests;

/// <summary>
/// The operator's node commands on real nodes in ActorSystems of this process, through kvctl: <c>node drain</c> moves
/// every replica and leadership off a node and reports it safe to stop, <c>node remove</c> replaces a dead node's
/// replicas at once (heal-after is set far out, so only the removal explains it), and both refuse, changing nothing,
/// what would make no sense.
/// </summary>
public sealed class NodeOperationsTests
{
    private const int Shards = 4;

    [Fact]
    public async Task Draining_a_node_moves_every_replica_and_leadership_off_it_until_the_drain_is_cancelled()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 4, Shards, replication: 3);
        await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 40; k++) await client.PutAsync($"drain/{k}", $"v{k}");
        string endpoints = string.Join(",", nodes.Endpoints);
        // Balancing settles 12 replicas at 3 per node; n4 leads some shards once leaders spread, or holds voters at least.
        await AwaitStatusAsync(client, s => s.Nodes.Count == 4 && s.Nodes.All(n => n.Replicas == 3) && s.Shards.All(sh => sh.HasLeader));

        KvctlRun drain = await KvctlRun.Of("--endpoints", endpoints, "--json", "node", "drain", "n4", "--wait", "120");
        drain.Code.Should().Be(KvctlExitCode.Ok, drain.ToString());
        JsonElement json = drain.Json();
        json.PropertyNames().Should().Equal("node", "draining", "drained", "replicas", "leading");
        json.GetProperty("drained").GetBoolean().Should().BeTrue();
        json.GetProperty("replicas").GetInt32().Should().Be(0);

        ClusterStatus drained = await client.StatusAsync(TimeSpan.FromSeconds(5));
        drained.Shards.Should().OnlyContain(s => s.HasLeader && s.Voters.Count == 3 && !s.Voters.Contains("n4") && s.Leader != "n4",
            Describe(drained));
        drained.Nodes.Single(n => n.Id == "n4").Should().Match<NodeStatus>(n => n.Draining && n.Replicas == 0 && n.Leading == 0);
        ClusterIdentity.Load(nodes.DataDirectory(3)).Should().Match<ClusterIdentity>(i => i.Draining && i.Hosted.Count == 0,
            "the drain is on the node's disk, so a restart keeps it");
        for (int k = 0; k < 40; k++) (await client.GetAsync($"drain/{k}"))!.ValueText.Should().Be($"v{k}", "a drain loses nothing");

        KvctlRun again = await KvctlRun.Of("--endpoints", endpoints, "node", "drain", "n4", "--wait", "30");
        again.Code.Should().Be(KvctlExitCode.Ok, again.ToString());
        again.Out.Should().Be("n4 is drained: it holds no replicas and leads no shard; it is safe to stop" + Environment.NewLine, "draining twice is safe");

        KvctlRun cancel = await KvctlRun.Of("--endpoints", endpoints, "--json", "node", "drain", "n4", "--cancel");
        cancel.Code.Should().Be(KvctlExitCode.Ok, cancel.ToString());
        cancel.Json().GetProperty("draining").GetBoolean().Should().BeFalse();
        await AwaitStatusAsync(client, s => s.Nodes.All(n => !n.Draining && n.Replicas == 3), "balancing gives n4 its share back");
    }

    [Fact]
    public async Task Commands_that_make_no_sense_are_refused_with_one_line_and_change_nothing()
    {
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 3, Shards, replication: 3);
        await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        string endpoints = string.Join(",", nodes.Endpoints);
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        await AwaitStatusAsync(client, s => s.Nodes.Count == 3);

        await Refused(["node", "drain", "n9"], "there is no node 'n9' in the cluster (known: n1, n2, n3)");
        await Refused(["node", "remove", "n9"], "there is no node 'n9' in the cluster (known: n1, n2, n3)");
        await Refused(["node", "drain", "n2"],
            "draining n2 would leave 2 node(s) that can hold replicas (n1, n3), fewer than the replication factor 3, so its replicas could go nowhere: start another node first");
        await Refused(["node", "remove", "n2"],
            "node n2 is up: only a node that is down or unreachable can be removed (to take a live node out: kvctl node drain n2, stop it, then remove it)");

        ClusterStatus after = await client.StatusAsync(TimeSpan.FromSeconds(5));
        after.Nodes.Should().OnlyContain(n => n.Status == "up" && !n.Draining, "a refusal changes nothing");
        for (int i = 0; i < 3; i++) ClusterIdentity.Load(nodes.DataDirectory(i))!.Draining.Should().BeFalse();

        async Task Refused(string[] command, string reason)
        {
            KvctlRun run = await KvctlRun.Of(["--endpoints", endpoints, .. command]);
            run.Code.Should().Be(KvctlExitCode.BadInput, run.ToString());
            run.ErrLines.Should().Equal($"kvctl: {reason}");
            run.Out.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task A_removed_node_is_replaced_at_once_and_leaves_the_status()
    {
        // Healing by itself would wait ten minutes: only the removal can make the shards whole within the test.
        await using var nodes = new NodeHarness(TestCluster.NewRoot(), 4, Shards, replication: 3,
            "kvactors.shard-manager.heal-after = 10m", "kvactors.shard-manager.max-concurrent-moves = 0");
        string[] seeds = nodes.Endpoints[..3];
        ClusterIdentity[] identities = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => nodes.Start(i, nodes.Options(i, seeds: seeds)).Identity))
            .WaitAsync(TestCluster.Wait);
        await nodes.AwaitLeadersAsync();
        KvClient client = KvClient.Create(nodes.Node(0).Gateway);
        for (int k = 0; k < 40; k++) await client.PutAsync($"remove/{k}", $"v{k}");
        identities[2].Hosted.Should().NotBeEmpty("n3 is an initial voter of every shard");

        await nodes.StopAsync(2);
        await AwaitStatusAsync(client, s => s.Nodes.Any(n => n.Id == "n3" && n.Status != "up"), "the cluster notices n3 is gone");
        KvctlRun remove = await KvctlRun.Of("--endpoints", nodes.Endpoints[0], "--json", "node", "remove", "n3", "--wait", "60");
        remove.Code.Should().Be(KvctlExitCode.Ok, remove.ToString());
        remove.Json().GetProperty("removed").GetBoolean().Should().BeTrue();

        ClusterStatus after = await client.StatusAsync(TimeSpan.FromSeconds(5));
        after.Shards.Should().OnlyContain(s => s.HasLeader && s.Voters.Count == 3 && !s.Voters.Contains("n3"), Describe(after));
        await AwaitStatusAsync(client, s => s.Nodes.All(n => n.Id != "n3"), "a removed node no shard names leaves the status");
        for (int k = 0; k < 40; k++) (await client.GetAsync($"remove/{k}"))!.ValueText.Should().Be($"v{k}", "a removal loses nothing");
    }

    private static async Task AwaitStatusAsync(KvClient client, Func<ClusterStatus, bool> condition, string because = "")
    {
        string last = "no status yet";
        try
        {
            await TestCluster.AwaitAsync(async () =>
            {
                ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5));
                last = Describe(status);
                return condition(status);
            }, within: TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} ({because}); last seen: {last}", e);
        }
    }

    private static string Describe(ClusterStatus status) =>
        string.Join("; ", status.Nodes.Select(n => $"{n.Id} {n.Status}{(n.Draining ? " draining" : "")} {n.Replicas} replicas {n.Leading} leading"))
        + " | " + string.Join("; ", status.Shards.Select(s =>
            $"shard {s.Id}: voters {string.Join(",", s.Voters)} learners {string.Join(",", s.Learners)} leader {(s.HasLeader ? s.Leader : "-")} {s.Move}"));
}
