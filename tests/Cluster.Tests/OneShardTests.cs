using Akka.Actor;
using KvActors.Node.Hosting;
using KvActors.Node.Replica;
using KvActors.Protocol.Wire;
using KvActors.Raft;
using Google.Protobuf;
using Xunit.Abstractions;

namespace KvActors.Cluster.Tests;

/// <summary>
/// One shard, three replicas, three ActorSystems joined as an Akka.Cluster on loopback, each with its own SQLite
/// files: the shard elects a leader, replicates, survives losing its leader's node, and takes that node back.
/// </summary>
public sealed class OneShardTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvactors-cluster-tests", Guid.NewGuid().ToString("N"));
    private InProcessCluster _shard = null!;

    public async Task InitializeAsync() =>
        _shard = await InProcessCluster.StartAsync(_root, 3, 1, "kvactors.replica.snapshot-every-entries = 20", KvActorsConfig.Hocon("test.conf"));

    public async Task DisposeAsync()
    {
        await _shard.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A SQLite file may still be held for a moment; the temp folder is cleaned eventually.
        }
    }

    [Fact]
    public async Task A_leader_is_elected_and_writes_replicate_to_every_replica()
    {
        int leader = await LeaderAsync();
        for (int i = 0; i < 10; i++) await PutAsync($"k{i}", $"v{i}");

        for (int node = 0; node < 3; node++)
            (await ReadLocalAsync(node, "k9")).Should().Be("v9", $"node {node} applied the write");
    }

    [Fact]
    public async Task Losing_the_leaders_node_elects_a_new_leader_loses_no_acknowledged_write_and_the_node_catches_up_on_return()
    {
        int leader = await LeaderAsync();
        for (int i = 0; i < 10; i++) await PutAsync($"before{i}", "x");
        leader = await LeaderAsync();            // whoever leads now, in case Raft re-elected meanwhile

        await _shard.StopNodeAsync(leader);
        int next = await LeaderAsync();
        next.Should().NotBe(leader);
        for (int i = 0; i < 10; i++) (await GetAsync($"before{i}")).Should().Be("x", "an acknowledged write survives");
        // Enough writes that the survivors compact past what the stopped node has: it must catch up by snapshot.
        for (int i = 0; i < 60; i++) await PutAsync($"after{i}", "y");

        await _shard.RestartNodeAsync(leader);

        output.WriteLine($"node {leader} restarted; waiting for it to catch up");
        (await ReadLocalAsync(leader, "after59")).Should().Be("y");
        (await ReadLocalAsync(leader, "before0")).Should().Be("x");
        var status = await _shard.Replica(leader, 0)!.Ask<ReplicaStatus>(GetReplicaStatus.Instance, Wait);
        status.SnapshotIndex.Value.Should().BePositive("the survivors compacted past its log, so it caught up from a snapshot");
    }

    [Fact]
    public async Task A_follower_that_was_down_briefly_catches_up_from_the_log_without_a_snapshot()
    {
        int leader = await LeaderAsync();
        int follower = (leader + 1) % 3;
        await PutAsync("first", "1");
        await _shard.StopNodeAsync(follower);
        for (int i = 0; i < 5; i++) await PutAsync($"while-down{i}", "2");   // fewer than a snapshot's worth

        await _shard.RestartNodeAsync(follower);

        (await ReadLocalAsync(follower, "while-down4")).Should().Be("2");
        var status = await _shard.Replica(follower, 0)!.Ask<ReplicaStatus>(GetReplicaStatus.Instance, Wait);
        status.SnapshotIndex.Value.Should().Be(0, "the leader still had every entry it missed, so it got them from the log");
    }

    [Fact]
    public async Task A_follower_refuses_a_write_with_NotLeader_and_names_the_leader()
    {
        int leader = await LeaderAsync();
        int follower = (leader + 1) % 3;
        var request = new KvRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } };

        KvReply reply = null!;
        await TestCluster.AwaitAsync(async () =>          // until the follower has heard from the new leader
        {
            reply = await _shard.Replica(follower, 0)!.Ask<KvReply>(request, Wait);
            return reply.LeaderReplica != 0;
        });

        reply.Error.Should().Be(ErrorCode.NotLeader);
        // Normally the leader found above; another replica if Raft re-elected in between — never the follower itself.
        reply.LeaderReplica.Should().NotBe(InProcessCluster.ReplicaIdOf(follower).Value);
        (await GetAsync("k")).Should().BeNull("the refused write changed nothing");
    }

    private async Task<int> LeaderAsync()
    {
        int leader = -1;
        await TestCluster.AwaitAsync(async () =>
        {
            for (int node = 0; node < _shard.NodeCount; node++)
            {
                if (_shard.Replica(node, 0) is not { } replica) continue;
                var status = await replica.Ask<ReplicaStatus>(GetReplicaStatus.Instance, TimeSpan.FromSeconds(3));
                if (status.Raft.Role == Role.Leader) { leader = node; return true; }
            }
            return false;
        });
        return leader;
    }

    /// <summary>Puts through whichever replica leads now, again if leadership moved under it (Raft may re-elect).</summary>
    private async Task PutAsync(string key, string value)
    {
        var request = new KvRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };
        await AtLeaderAsync(request);
    }

    /// <summary>A linearizable get through whichever replica leads now.</summary>
    private async Task<string?> GetAsync(string key)
    {
        var request = new KvRequest { Get = new GetRequest { Key = ByteString.CopyFromUtf8(key) } };
        KvReply reply = await AtLeaderAsync(request);
        return reply.Get.Found ? reply.Get.Kv.Value.ToStringUtf8() : null;
    }

    private async Task<KvReply> AtLeaderAsync(KvRequest request)
    {
        KvReply reply = null!;
        await TestCluster.AwaitAsync(async () =>
        {
            reply = await _shard.Replica(await LeaderAsync(), 0)!.Ask<KvReply>(request, Wait);
            return reply.Error is not (ErrorCode.NotLeader or ErrorCode.Unavailable);   // refused: nothing applied
        });
        reply.Error.Should().Be(ErrorCode.Ok, reply.Message);
        return reply;
    }

    /// <summary>Waits until node's own state machine has the key (a serializable read), and returns its value.</summary>
    private async Task<string?> ReadLocalAsync(int node, string key)
    {
        string? value = null;
        await TestCluster.AwaitAsync(async () =>
        {
            var request = new KvRequest { Get = new GetRequest { Key = ByteString.CopyFromUtf8(key), Serializable = true } };
            KvReply reply = await _shard.Replica(node, 0)!.Ask<KvReply>(request, TimeSpan.FromSeconds(3));
            if (!reply.Get.Found) return false;
            value = reply.Get.Kv.Value.ToStringUtf8();
            return true;
        });
        return value;
    }
}
