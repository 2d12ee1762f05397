using Akka.Actor;
using KvActors.Node.Placement;
using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Tests.Placement;

public sealed class LeaderBalancerTests
{
    private static readonly int[] All = [0, 1, 2, 3];

    private static KnownNode Node(int n, int[] leading, int[]? shards = null, NodeReachability status = NodeReachability.Up, bool draining = false) =>
        new($"n{n}", $"127.0.0.1:{4000 + n}", new Address("akka.tcp", "kvactors", "127.0.0.1", 4000 + n), new ReplicaId((ulong)n),
            [.. shards ?? All], status) { Leading = [.. leading], Draining = draining };

    private static KnownNode[] Others(KnownNodes known, KnownNode leader) => [.. known.Nodes.Where(n => n.NodeId != leader.NodeId)];

    [Fact]
    public void A_node_leading_every_shard_hands_one_to_each_node_leading_none_and_the_rest_wait_their_turn()
    {
        var known = new KnownNodes([Node(1, All), Node(2, []), Node(3, [])]);
        KnownNode n1 = known.Nodes[0];
        KnownNode? first = LeaderBalancer.Target(known, 0, n1, Others(known, n1));
        KnownNode? second = LeaderBalancer.Target(known, 1, n1, Others(known, n1));
        first.Should().NotBeNull();
        second.Should().NotBeNull();
        second!.NodeId.Should().NotBe(first!.NodeId, "shard 1 counts shard 0's transfer as made");
        LeaderBalancer.Target(known, 2, n1, Others(known, n1)).Should().BeNull("after two transfers n1 leads 2 and the others 1 each");
        LeaderBalancer.Target(known, 3, n1, Others(known, n1)).Should().BeNull();
    }

    [Fact]
    public void A_draining_node_hands_on_even_a_single_leadership_and_is_never_handed_one()
    {
        var known = new KnownNodes([Node(1, [0], draining: true), Node(2, [1, 2]), Node(3, [3])]);
        LeaderBalancer.Target(known, 0, known.Nodes[0], Others(known, known.Nodes[0]))!.NodeId
            .Should().Be("n3", "n1 drains; n3 leads fewer than n2");

        var toDraining = new KnownNodes([Node(1, [0, 1, 2]), Node(2, [3]), Node(3, [], draining: true)]);
        LeaderBalancer.Target(toDraining, 0, toDraining.Nodes[0], Others(toDraining, toDraining.Nodes[0]))!.NodeId
            .Should().Be("n2", "n3 leads none, but it drains");
    }

    [Fact]
    public void Counts_within_one_move_nothing_and_only_voters_that_are_up_may_lead()
    {
        var even = new KnownNodes([Node(1, [0, 1]), Node(2, [2]), Node(3, [3])]);
        LeaderBalancer.Target(even, 0, even.Nodes[0], Others(even, even.Nodes[0])).Should().BeNull();

        var down = new KnownNodes([Node(1, [0, 1]), Node(2, [2, 3]), Node(3, [], status: NodeReachability.Unreachable)]);
        LeaderBalancer.Target(down, 0, down.Nodes[0], Others(down, down.Nodes[0])).Should().BeNull("n3, leading none, is not up");

        var notVoter = new KnownNodes([Node(1, [0, 1]), Node(2, [2, 3]), Node(3, [], shards: [1, 2, 3])]);
        LeaderBalancer.Target(notVoter, 0, notVoter.Nodes[0], [notVoter.Nodes[1]]).Should().BeNull("only the shard's voters can lead it");
        LeaderBalancer.Target(notVoter, 1, notVoter.Nodes[0], Others(notVoter, notVoter.Nodes[0]))!.NodeId.Should().Be("n3");
    }

    [Theory]
    [InlineData(1, 3, 8)]
    [InlineData(2, 5, 16)]
    [InlineData(3, 4, 12)]
    public void Applying_transfers_until_none_is_left_spreads_leaders_within_one_when_every_node_holds_every_shard(int seed, int nodes, int shards)
    {
        var random = new Random(seed);
        int[] leaderOf = [.. Enumerable.Range(0, shards).Select(_ => random.Next(1, 1 + Math.Min(2, nodes)))];     // piled on n1, n2
        int[] every = [.. Enumerable.Range(0, shards)];
        int transfers = 0;
        for (bool moved = true; moved && transfers < 1000;)
        {
            moved = false;
            for (int shard = 0; shard < shards; shard++)
            {
                var known = new KnownNodes([.. Enumerable.Range(1, nodes).Select(n =>
                    Node(n, [.. every.Where(s => leaderOf[s] == n)], every))]);
                KnownNode leader = known.Nodes[leaderOf[shard] - 1];
                if (LeaderBalancer.Target(known, shard, leader, Others(known, leader)) is not { } to) continue;
                leaderOf[shard] = int.Parse(to.NodeId[1..]);
                transfers++;
                moved = true;
            }
        }
        int[] counts = [.. Enumerable.Range(1, nodes).Select(n => leaderOf.Count(l => l == n))];
        (counts.Max() - counts.Min()).Should().BeLessThanOrEqualTo(1, $"seed {seed}: leaders per node {string.Join(",", counts)} after {transfers} transfers");
    }
}
