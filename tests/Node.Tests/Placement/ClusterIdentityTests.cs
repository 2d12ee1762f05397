using KvActors.Node.Placement;

namespace KvActors.Node.Tests.Placement;

public sealed class ClusterIdentityTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvactors-identity", Guid.NewGuid().ToString("N"));

    private static ClusterIdentity Sample() => new(16, 3, ["127.0.0.1:4001", "127.0.0.1:4002", "127.0.0.1:4003"], "n1", "127.0.0.1:4001", 42, [0, 5, 9]);

    [Fact]
    public void A_directory_without_an_identity_has_none()
    {
        ClusterIdentity.Load(_dir).Should().BeNull();
    }

    [Fact]
    public void A_saved_identity_loads_back_equal()
    {
        ClusterIdentity identity = Sample();
        identity.Save(_dir);

        ClusterIdentity loaded = ClusterIdentity.Load(_dir)!;

        loaded.Shards.Should().Be(16);
        loaded.Replication.Should().Be(3);
        loaded.Seeds.Should().Equal(identity.Seeds);
        loaded.NodeId.Should().Be("n1");
        loaded.Endpoint.Should().Be("127.0.0.1:4001");
        loaded.ReplicaId.Should().Be(42);
        loaded.Hosted.Should().Equal(0, 5, 9);
        loaded.Draining.Should().BeFalse();
        File.Exists(Path.Combine(_dir, ClusterIdentity.FileName + ".tmp")).Should().BeFalse("the temporary file was renamed");
    }

    [Fact]
    public void A_drain_is_recorded_so_a_restart_keeps_it_and_an_identity_written_before_drains_existed_is_not_draining()
    {
        (Sample() with { Draining = true }).Save(_dir);
        ClusterIdentity.Load(_dir)!.Draining.Should().BeTrue();

        string path = Path.Combine(_dir, ClusterIdentity.FileName);
        System.Text.Json.Nodes.JsonObject json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json.Remove("draining");
        File.WriteAllText(path, json.ToJsonString());
        File.ReadAllText(path).Should().NotContain("draining");
        ClusterIdentity.Load(_dir)!.Draining.Should().BeFalse();
    }

    [Fact]
    public void A_shard_hosted_again_after_its_replica_was_removed_gets_a_new_replica_id_that_the_node_is_known_to_own()
    {
        ClusterIdentity identity = Sample();
        var node = new Raft.Ids.ReplicaId(42);
        identity.ReplicaOf(5).Should().Be(node, "a node's first replica of a shard answers to the node replica id");

        ClusterIdentity once = identity.WithRemoved(5).Hosting(5);
        ClusterIdentity twice = once.WithRemoved(5).Hosting(5).WithRemoved(9);
        once.ReplicaOf(5).Should().NotBe(node);
        twice.ReplicaOf(5).Should().NotBe(node).And.NotBe(once.ReplicaOf(5));
        twice.ReplicaOf(0).Should().Be(node, "other shards keep theirs");
        twice.RemovedReplicasOf(5).Should().Equal(node, once.ReplicaOf(5));
        twice.Removed.Should().Equal(5, 5, 9);

        var known = new Topology.KnownNode("n1", "127.0.0.1:4001", new Akka.Actor.Address("akka.tcp", "kvactors", "127.0.0.1", 4001), node,
            [.. twice.Hosted], Topology.NodeReachability.Up) { Removed = [.. twice.Removed] };
        known.ReplicaOf(5).Should().Be(twice.ReplicaOf(5));
        known.ReplicaOf(9).Should().Be(twice.ReplicaOf(9));
        foreach (Raft.Ids.ReplicaId owned in (Raft.Ids.ReplicaId[])[node, once.ReplicaOf(5), twice.ReplicaOf(5), twice.ReplicaOf(9)])
            known.Owns(owned).Should().BeTrue($"replica {owned} is or was one of n1's");
        known.Owns(new Raft.Ids.ReplicaId(43)).Should().BeFalse();
    }

    [Fact]
    public void A_node_started_with_the_recorded_settings_has_no_conflict()
    {
        Sample().Conflict("n1", 16, 3).Should().BeNull();
    }

    [Theory]
    [InlineData("n1", 8, 3, "created with 16 shards, but --shards 8 was given")]
    [InlineData("n1", 16, 5, "created with replication 3, but --replication 5 was given")]
    [InlineData("n2", 16, 3, "belongs to node 'n1', but --node-id n2 was given")]
    public void A_node_started_with_other_settings_is_told_which_flag_disagrees(string node, int shards, int replication, string expected)
    {
        Sample().Conflict(node, shards, replication).Should().Contain(expected);
    }

    [Fact]
    public void A_corrupt_identity_file_is_refused_with_what_to_do()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, ClusterIdentity.FileName), "{ not json");

        var act = () => ClusterIdentity.Load(_dir);

        act.Should().Throw<InvalidDataException>().WithMessage("*move the data directory away*");
    }

    [Fact]
    public void An_identity_without_a_replica_id_is_refused()
    {
        (Sample() with { ReplicaId = 0 }).Save(_dir);

        var act = () => ClusterIdentity.Load(_dir);

        act.Should().Throw<InvalidDataException>().WithMessage("*incomplete*");
    }

    [Fact]
    public void Formed_seeds_accumulate_durably_and_sorted()
    {
        FormedSeeds.Load(_dir).Formed.Should().BeEmpty();
        FormedSeeds first = FormedSeeds.Load(_dir).With(["127.0.0.1:4002"]);
        first.Save(_dir);
        FormedSeeds.Load(_dir).With(["127.0.0.1:4001", "127.0.0.1:4002"]).Save(_dir);

        FormedSeeds.Load(_dir).Formed.Should().Equal("127.0.0.1:4001", "127.0.0.1:4002");
        first.With(["127.0.0.1:4002"]).Should().BeSameAs(first, "nothing new, nothing to write");
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
