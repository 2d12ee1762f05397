using KvActors.Node.Placement;

namespace KvActors.Node.Tests.Placement;

public sealed class RendezvousPlacementTests
{
    private static readonly string[] Seeds = ["127.0.0.1:4001", "127.0.0.1:4002", "127.0.0.1:4003", "127.0.0.1:4004", "127.0.0.1:4005"];

    [Fact]
    public void Every_seed_computes_the_same_placement_whatever_the_order_of_its_seed_list()
    {
        for (int shard = 0; shard < 64; shard++)
        {
            RendezvousPlacement.SeedsFor(shard, Seeds, 3).Should()
                .Equal(RendezvousPlacement.SeedsFor(shard, Seeds.Reverse().ToArray(), 3), $"shard {shard}");
        }
    }

    [Fact]
    public void A_shard_gets_as_many_distinct_seeds_as_its_replication_factor()
    {
        for (int shard = 0; shard < 64; shard++)
        {
            IReadOnlyList<string> placed = RendezvousPlacement.SeedsFor(shard, Seeds, 3);
            placed.Should().HaveCount(3).And.OnlyHaveUniqueItems().And.BeSubsetOf(Seeds);
        }
    }

    [Fact]
    public void Replicas_spread_evenly_over_the_seeds()
    {
        var counts = Seeds.ToDictionary(s => s, _ => 0);
        for (int shard = 0; shard < 1000; shard++)
            foreach (string seed in RendezvousPlacement.SeedsFor(shard, Seeds, 3)) counts[seed]++;

        counts.Values.Should().OnlyContain(c => c > 500 && c < 700, "3,000 replicas over 5 seeds is 600 each on average");
    }

    [Fact]
    public void Adding_a_seed_moves_only_the_replicas_it_now_wins()
    {
        string[] more = [.. Seeds, "127.0.0.1:4006"];
        for (int shard = 0; shard < 200; shard++)
        {
            var before = RendezvousPlacement.SeedsFor(shard, Seeds, 3);
            var after = RendezvousPlacement.SeedsFor(shard, more, 3);
            after.Except(before).Should().BeSubsetOf(["127.0.0.1:4006"], $"shard {shard} may only gain the new seed");
        }
    }

    [Fact]
    public void The_placement_is_stable_across_processes_and_versions()
    {
        // XxHash64 is specified bit for bit: this golden placement must never change, or a restarted seed would
        // disagree with the others about the initial membership of every shard.
        RendezvousPlacement.SeedsFor(0, Seeds, 3).Should().Equal("127.0.0.1:4002", "127.0.0.1:4003", "127.0.0.1:4004");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void A_replication_factor_the_seeds_cannot_hold_is_refused_with_a_reason(int replication)
    {
        var act = () => RendezvousPlacement.SeedsFor(0, Seeds, replication);
        act.Should().Throw<ArgumentException>().WithMessage("*replication*5 seeds*");
    }

    [Fact]
    public void A_seed_listed_twice_is_refused()
    {
        var act = () => RendezvousPlacement.SeedsFor(0, ["a:1", "a:1"], 1);
        act.Should().Throw<ArgumentException>().WithMessage("*twice*");
    }
}
