using Akka.Actor;
using KvActors.Node.Placement;
using KvActors.Node.Topology;
using KvActors.Raft.Ids;

namespace KvActors.Node.Tests.Placement;

public sealed class ReplicaBalancerTests
{
    private static readonly HashSet<ReplicaId> NoneRefused = [];

    private static KnownNode Node(int n, int[] shards, NodeReachability status = NodeReachability.Up, int[]? removed = null, bool draining = false) =>
        new($"n{n}", $"127.0.0.1:{4000 + n}", new Address("akka.tcp", "kvactors", "127.0.0.1", 4000 + n), new ReplicaId((ulong)n),
            [.. shards], status) { Removed = [.. removed ?? []], Draining = draining };

    private static KnownNodes Nodes(params KnownNode[] nodes) => new([.. nodes]);

    [Fact]
    public void A_node_that_joined_empty_takes_replicas_from_the_fullest_nodes_two_shards_at_a_time()
    {
        int[] all = [0, 1, 2, 3];
        KnownNodes known = Nodes(Node(1, all), Node(2, all), Node(3, all), Node(4, []));

        ReplicaMove? first = ReplicaBalancer.Next(known, 0, replication: 3, maxConcurrentMoves: 2, NoneRefused);
        first.Should().NotBeNull();
        first!.To.NodeId.Should().Be("n4");
        first.From.Shards.Should().HaveCount(4);
        ReplicaBalancer.Next(known, 1, 3, 2, NoneRefused).Should().NotBeNull("two moves may run at once");
        ReplicaBalancer.Next(known, 2, 3, 2, NoneRefused).Should().BeNull("shards 0 and 1 take both slots");
        ReplicaBalancer.Next(known, 3, 3, 2, NoneRefused).Should().BeNull();
    }

    [Fact]
    public void Moves_in_flight_take_the_slots_until_their_old_replicas_are_gone()
    {
        // Shards 0 and 1 are on four live nodes each: their new replica is on n4, the old one not yet removed.
        KnownNodes moving = Nodes(Node(1, [0, 1, 2, 3]), Node(2, [0, 1, 2, 3]), Node(3, [0, 1, 2, 3]), Node(4, [0, 1]));
        ReplicaBalancer.Next(moving, 2, 3, 2, NoneRefused).Should().BeNull();
        ReplicaBalancer.Next(moving, 0, 3, 2, NoneRefused).Should().BeNull("a shard already moving starts no second move");
        ReplicaBalancer.Next(moving, 2, 3, 3, NoneRefused)!.To.NodeId.Should().Be("n4", "with three slots the third shard may go");

        // Shard 0 finished (n1 dropped it); shard 1 still moving: one slot is free again.
        KnownNodes oneLeft = Nodes(Node(1, [1, 2, 3]), Node(2, [0, 1, 2, 3]), Node(3, [0, 1, 2, 3]), Node(4, [0, 1]));
        ReplicaMove? next = ReplicaBalancer.Next(oneLeft, 2, 3, 2, NoneRefused);
        next!.To.NodeId.Should().Be("n4");
        next.From.NodeId.Should().BeOneOf("n2", "n3");
    }

    [Fact]
    public void A_shard_counts_the_moves_lower_numbered_shards_start_now_so_two_do_not_fill_one_node_past_its_share()
    {
        // Shard 0 moves n1 -> n3 (4 against 1). Counted as done, n1 holds 3 and n3 2: shard 1 has nothing to gain,
        // where on the raw counts it would send n3 a second replica and leave it ahead.
        KnownNodes known = Nodes(Node(1, [0, 1, 2, 3]), Node(2, [0, 1, 2]), Node(3, [3]));
        ReplicaMove? first = ReplicaBalancer.Next(known, 0, replication: 2, maxConcurrentMoves: 2, NoneRefused);
        first!.From.NodeId.Should().Be("n1");
        first.To.NodeId.Should().Be("n3");
        ReplicaBalancer.Next(known, 1, replication: 2, maxConcurrentMoves: 2, NoneRefused).Should().BeNull();
    }

    [Fact]
    public void Counts_within_one_of_each_other_move_nothing()
    {
        KnownNodes known = Nodes(Node(1, [0, 1, 2]), Node(2, [0, 1, 3]), Node(3, [0, 2, 3]), Node(4, [1, 2, 3]));
        for (int shard = 0; shard < 4; shard++) ReplicaBalancer.Next(known, shard, 3, 2, NoneRefused).Should().BeNull($"shard {shard}");

        KnownNodes offByOne = Nodes(Node(1, [0, 1, 2]), Node(2, [0, 1, 3]), Node(3, [0, 2]), Node(4, [1, 3]), Node(5, [2, 3]));
        for (int shard = 0; shard < 4; shard++) ReplicaBalancer.Next(offByOne, shard, 3, 2, NoneRefused).Should().BeNull($"shard {shard}");
    }

    [Fact]
    public void A_node_that_refused_or_is_not_up_is_never_a_target_and_a_node_not_up_is_not_counted()
    {
        int[] all = [0, 1, 2, 3];
        ReplicaBalancer.Next(Nodes(Node(1, all), Node(2, all), Node(3, all), Node(4, [], removed: [0])), 0, 3, 2, NoneRefused)!.To.NodeId
            .Should().Be("n4", "a node whose replica of the shard was removed before may host it again, under a new replica id");
        ReplicaBalancer.Next(Nodes(Node(1, all), Node(2, all), Node(3, all), Node(4, [])), 0, 3, 2, new HashSet<ReplicaId> { new(4) })
            .Should().BeNull("n4 refused the shard");
        ReplicaBalancer.Next(Nodes(Node(1, all), Node(2, all), Node(3, all), Node(4, [], NodeReachability.Unreachable)), 0, 3, 2, NoneRefused)
            .Should().BeNull("an unreachable node takes nothing");

        // A dead node still listing shards 0 and 1 does not make them look in flight.
        KnownNodes withDead = Nodes(Node(1, all), Node(2, all), Node(3, all), Node(4, []), Node(5, [0, 1], NodeReachability.Down));
        ReplicaBalancer.Next(withDead, 0, 3, 2, NoneRefused)!.To.NodeId.Should().Be("n4");
    }

    [Fact]
    public void A_draining_node_gives_its_replicas_away_first_even_when_the_counts_are_even_and_takes_none()
    {
        // Four nodes of three replicas each: balanced, but n4 drains, so each of its shards moves to a node without one.
        KnownNodes known = Nodes(Node(1, [0, 1, 2]), Node(2, [0, 1, 3]), Node(3, [0, 2, 3]), Node(4, [1, 2, 3], draining: true));
        ReplicaBalancer.Next(known, 0, 3, 2, NoneRefused).Should().BeNull("shard 0 has no replica on n4, and counts are even");
        ReplicaMove? move = ReplicaBalancer.Next(known, 1, 3, 2, NoneRefused);
        move!.From.NodeId.Should().Be("n4");
        move.To.NodeId.Should().Be("n3", "the only node without shard 1");
        ReplicaBalancer.Next(known, 2, 3, 2, NoneRefused)!.From.NodeId.Should().Be("n4");
        ReplicaBalancer.Next(known, 3, 3, 2, NoneRefused).Should().BeNull("shards 1 and 2 take both slots");

        // A draining node that holds nothing takes nothing, however empty it is.
        int[] all = [0, 1, 2, 3];
        ReplicaBalancer.Next(Nodes(Node(1, all), Node(2, all), Node(3, all), Node(4, [], draining: true)), 0, 3, 2, NoneRefused)
            .Should().BeNull();
        ReplicaBalancer.NewHost(Nodes(Node(1, [1]), Node(2, [], draining: true)).Nodes, 0, NoneRefused)!.NodeId
            .Should().Be("n1", "a replacement never goes to a draining node either");
    }

    [Theory]
    [InlineData(1, 4, 8, 3)]
    [InlineData(2, 5, 8, 3)]
    [InlineData(3, 7, 16, 3)]
    [InlineData(4, 5, 12, 5)]
    public void Applying_moves_until_none_is_left_ends_with_every_node_within_one_of_the_others(int seed, int nodes, int shards, int replication)
    {
        var random = new Random(seed);
        // Any starting placement: each shard on `replication` distinct nodes drawn at random, so counts start uneven.
        var hosts = Enumerable.Range(0, shards)
            .Select(_ => Enumerable.Range(1, nodes).OrderBy(_ => random.Next()).Take(replication).ToHashSet())
            .ToArray();
        int moves = 0;
        for (bool moved = true; moved && moves < 1000;)
        {
            moved = false;
            for (int shard = 0; shard < shards; shard++)
            {
                KnownNodes known = Nodes([.. Enumerable.Range(1, nodes).Select(n =>
                    Node(n, [.. Enumerable.Range(0, shards).Where(s => hosts[s].Contains(n))]))]);
                if (ReplicaBalancer.Next(known, shard, replication, 2, NoneRefused) is not { } move) continue;
                int from = int.Parse(move.From.NodeId[1..]), to = int.Parse(move.To.NodeId[1..]);
                hosts[shard].Should().Contain(from).And.NotContain(to);
                hosts[shard].Remove(from);
                hosts[shard].Add(to);
                moves++;
                moved = true;
            }
        }
        int[] counts = [.. Enumerable.Range(1, nodes).Select(n => hosts.Count(h => h.Contains(n)))];
        (counts.Max() - counts.Min()).Should().BeLessThanOrEqualTo(1, $"seed {seed}: counts {string.Join(",", counts)} after {moves} moves");
        hosts.Should().OnlyContain(h => h.Count == replication);
    }
}
