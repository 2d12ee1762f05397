using Akka.Actor;
using Akka.Cluster;
using KvActors.Node.Placement;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.Placement;

/// <summary>
/// Of two Akka clusters the seeds formed while cut off, the members of the smaller one (or, at equal sizes, the one
/// with the higher lowest address) yield; nobody yields to a node of its own cluster or to one that is in none.
/// </summary>
public sealed class IslandWatcherTests
{
    private static UniqueAddress Node(int port, int uid) => new(new Address("akka.tcp", "kvactors", "127.0.0.1", port), uid);

    private static MembershipAnswer From(int port, int uid, uint members, string lowest, bool member = true, bool includesAsker = false) =>
        new() { Endpoint = $"127.0.0.1:{port}", Uid = uid, Member = member, Members = members, Lowest = lowest, IncludesAsker = includesAsker };

    [Fact]
    public void A_lone_first_seed_yields_to_the_two_seeds_that_formed_without_it()
    {
        UniqueAddress[] island = [Node(7101, 1)];

        IslandWatcher.ShouldYield(From(7102, 2, members: 2, lowest: "127.0.0.1:7102"), island).Should().BeTrue();
    }

    [Fact]
    public void The_larger_cluster_does_not_yield_to_the_island()
    {
        UniqueAddress[] cluster = [Node(7102, 2), Node(7103, 3)];

        IslandWatcher.ShouldYield(From(7101, 1, members: 1, lowest: "127.0.0.1:7101"), cluster).Should().BeFalse();
    }

    [Fact]
    public void Of_two_equal_clusters_the_one_with_the_higher_lowest_address_yields()
    {
        UniqueAddress[] low = [Node(7101, 1), Node(7102, 2)];
        UniqueAddress[] high = [Node(7103, 3), Node(7104, 4)];

        IslandWatcher.ShouldYield(From(7103, 3, members: 2, lowest: "127.0.0.1:7103"), low).Should().BeFalse();
        IslandWatcher.ShouldYield(From(7101, 1, members: 2, lowest: "127.0.0.1:7101"), high).Should().BeTrue();
    }

    [Fact]
    public void Nobody_yields_to_a_member_of_its_own_cluster_or_to_a_node_in_no_cluster()
    {
        UniqueAddress[] mine = [Node(7101, 1)];

        IslandWatcher.ShouldYield(From(7102, 2, members: 3, lowest: "127.0.0.1:7101", includesAsker: true), mine).Should()
            .BeFalse("it knows this node: one cluster, its gossip not yet here");
        IslandWatcher.ShouldYield(From(7102, 2, members: 3, lowest: "127.0.0.1:7101"), [Node(7101, 1), Node(7102, 2)]).Should()
            .BeFalse("this node knows its incarnation: one cluster");
        IslandWatcher.ShouldYield(From(7102, 2, members: 0, lowest: "", member: false), mine).Should().BeFalse("it is only joining");
    }

    [Fact]
    public void An_old_incarnation_in_our_view_does_not_make_a_new_one_ours()
    {
        UniqueAddress[] mine = [Node(7101, 1), Node(7102, 2)];      // 7102's dead incarnation, still a member here

        IslandWatcher.ShouldYield(From(7102, 99, members: 3, lowest: "127.0.0.1:7101"), mine).Should().BeTrue();
    }
}
