using KvActors.Node.Placement;

namespace KvActors.Node.Tests.Placement;

/// <summary>A restarted first seed founds the Akka cluster only with a majority of the seeds, itself included, in none.</summary>
public sealed class ClusterJoinerTests
{
    [Theory]
    [InlineData(3, 1, true)]      // itself and one other of three
    [InlineData(3, 0, false)]     // itself alone
    [InlineData(2, 1, true)]
    [InlineData(2, 0, false)]
    [InlineData(5, 2, true)]
    [InlineData(5, 1, false)]
    public void The_first_seed_founds_with_a_majority_of_the_seeds_in_no_cluster(int seeds, int notMembers, bool mayFound) =>
        ClusterJoiner.MayFound(seeds, notMembers, memberSeen: false).Should().Be(mayFound);

    [Fact]
    public void No_majority_founds_while_any_seed_says_it_is_in_a_cluster() =>
        ClusterJoiner.MayFound(seeds: 3, notMembers: 2, memberSeen: true).Should().BeFalse("that cluster will let it in");
}
