using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using KvActors.Node.Hosting;
using KvActors.Node.Replica;
using ErrorCode = KvActors.Protocol.Wire.ErrorCode;
using KvReply = KvActors.Protocol.Wire.KvReply;
using KvRequest = KvActors.Protocol.Wire.KvRequest;
using RaftEnvelope = KvActors.Protocol.Wire.RaftEnvelope;
using KvActors.Raft;
using KvActors.Raft.Ids;
using Xunit.Abstractions;

namespace KvActors.Node.Tests.Replica;

/// <summary>
/// One replica (a group of one voter) on real SQLite files: it elects itself, persists, and comes back from its
/// journal and snapshots after its actor or its whole ActorSystem stops.
/// </summary>
public sealed class ReplicaActorTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly string _dataDirectory;
    private readonly ReplicaAddress _address = new(0, new ReplicaId(1));

    public ReplicaActorTests(ITestOutputHelper output)
        : base(NodeConfig(DataDirectoryFor(out string dir)), output: output)
    {
        _dataDirectory = dir;
    }

    private static string DataDirectoryFor(out string dir)
    {
        dir = Path.Combine(Path.GetTempPath(), "kvactors-tests", Guid.NewGuid().ToString("N"));
        SqliteFiles.Prepare(dir);
        return dir;
    }

    private static Akka.Configuration.Config NodeConfig(string dir, string extra = "") =>
        KvActorsConfig.ForSqlite(dir, extra, KvActorsConfig.Hocon("test.conf"));

    private IActorRef StartReplica(ActorSystem system, string name = "replica") =>
        system.ActorOf(ReplicaActor.Props(_address, ReplicaSettings.From(system.Settings.Config),
            Membership.Of(_address.Replica), ImmutableDictionary<ReplicaId, ActorPath>.Empty), name);

    private async Task<KvReply> AskUntilOk(IActorRef replica, KvRequest request)
    {
        KvReply reply = null!;
        await AwaitAssertAsync(async () =>
        {
            reply = await replica.Ask<KvReply>(request, TimeSpan.FromSeconds(3));
            reply.Error.Should().Be(ErrorCode.Ok, reply.Message);
        }, Wait, TimeSpan.FromMilliseconds(50));
        return reply;
    }

    private async Task StopAsync(IActorRef replica)
    {
        Watch(replica);
        Sys.Stop(replica);
        await ExpectTerminatedAsync(replica, Wait);
    }

    [Fact]
    public async Task An_acknowledged_put_is_readable_after_the_replica_restarts_from_its_journal()
    {
        IActorRef replica = StartReplica(Sys);
        await AskUntilOk(replica, KvRequests.Put("a", "1"));
        await StopAsync(replica);

        IActorRef restarted = StartReplica(Sys, "restarted");

        KvReply reply = await AskUntilOk(restarted, KvRequests.Get("a"));
        KvRequests.ValueOf(reply).Should().Be("1");
        var status = await restarted.Ask<ReplicaStatus>(GetReplicaStatus.Instance, Wait);
        status.SnapshotIndex.Should().Be(default(LogIndex), "this test recovers from the journal alone");
    }

    [Fact]
    public async Task A_replica_recovers_from_its_snapshot_and_the_journal_after_it()
    {
        ActorSystem system = ActorSystem.Create("snapshots", NodeConfig(_dataDirectory, "kvactors.replica.snapshot-every-entries = 5"));
        try
        {
            IActorRef replica = StartReplica(system);
            for (int i = 0; i < 12; i++) await AskUntilOk(replica, KvRequests.Put($"k{i}", $"v{i}"));
            await AwaitAssertAsync(async () =>
            {
                var status = await replica.Ask<ReplicaStatus>(GetReplicaStatus.Instance, Wait);
                status.SnapshotIndex.Value.Should().BeGreaterThan(5);
            }, Wait, TimeSpan.FromMilliseconds(50));
            Watch(replica);
            system.Stop(replica);
            await ExpectTerminatedAsync(replica, Wait);

            IActorRef restarted = StartReplica(system, "restarted");

            var recovered = await restarted.Ask<ReplicaStatus>(GetReplicaStatus.Instance, Wait);
            recovered.SnapshotIndex.Value.Should().BeGreaterThan(5, "it recovered from a snapshot");
            for (int i = 0; i < 12; i++)
                KvRequests.ValueOf(await AskUntilOk(restarted, KvRequests.Get($"k{i}"))).Should().Be($"v{i}");
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_replica_snapshots_after_enough_applied_bytes_even_before_enough_entries()
    {
        ActorSystem system = ActorSystem.Create("bytes", NodeConfig(_dataDirectory,
            "kvactors.replica { snapshot-every-entries = 1000000, snapshot-every-bytes = 64KiB }"));
        try
        {
            IActorRef replica = StartReplica(system);
            for (int i = 0; i < 5; i++) await AskUntilOk(replica, KvRequests.Put($"big{i}", new string('v', 20_000)));

            await AwaitAssertAsync(async () =>      // the snapshot store answers asynchronously
            {
                var status = await replica.Ask<ReplicaStatus>(GetReplicaStatus.Instance, Wait);
                status.SnapshotIndex.Value.Should().BePositive("about 100 KB of commands passed the 64 KiB threshold");
            }, Wait, TimeSpan.FromMilliseconds(50));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_the_node_stopping_in_the_middle_of_a_batch()
    {
        ActorSystem system = ActorSystem.Create("crash", NodeConfig(_dataDirectory));
        IActorRef replica = StartReplica(system);
        await AskUntilOk(replica, KvRequests.Put("warm", "up"));
        var writes = Enumerable.Range(0, 300)
            .Select(i => (Key: $"k{i}", Reply: replica.Ask<KvReply>(KvRequests.Put($"k{i}", $"v{i}"), TimeSpan.FromSeconds(10))))
            .ToList();
        await AwaitConditionAsync(() => Task.FromResult(writes.Count(w => w.Reply.IsCompletedSuccessfully) >= 50), Wait);
        await system.Terminate();      // the node goes away with writes in flight
        var acknowledged = writes
            .Where(w => w.Reply.IsCompletedSuccessfully && w.Reply.Result.Error == ErrorCode.Ok)
            .Select(w => w.Key)
            .ToList();
        acknowledged.Count.Should().BeGreaterThanOrEqualTo(50);

        IActorRef restarted = StartReplica(Sys);

        foreach (string key in acknowledged)
            KvRequests.ValueOf(await AskUntilOk(restarted, KvRequests.Get(key))).Should().NotBeNull($"{key} was acknowledged");
    }

    [Fact]
    public async Task A_serializable_read_is_answered_locally_and_flagged_as_possibly_stale()
    {
        IActorRef replica = StartReplica(Sys);
        await AskUntilOk(replica, KvRequests.Put("a", "1"));

        KvReply reply = await replica.Ask<KvReply>(KvRequests.Get("a", serializable: true), Wait);

        reply.Stale.Should().BeTrue();
        KvRequests.ValueOf(reply).Should().Be("1");
    }

    [Fact]
    public async Task A_key_over_the_limit_is_refused_and_changes_nothing()
    {
        IActorRef replica = StartReplica(Sys);
        await AskUntilOk(replica, KvRequests.Put("a", "1"));

        KvReply refused = await replica.Ask<KvReply>(KvRequests.Put(new string('k', 4097), "x"), Wait);

        refused.Error.Should().Be(ErrorCode.TooLarge);
        refused.Message.Should().Contain("4096");
        KvReply after = await AskUntilOk(replica, KvRequests.Get("a"));
        after.Revision.Should().Be(1, "the refused put wrote nothing");
    }

    [Fact]
    public async Task A_malformed_or_misaddressed_Raft_message_is_dropped_and_the_replica_keeps_serving()
    {
        IActorRef replica = StartReplica(Sys);
        await AskUntilOk(replica, KvRequests.Put("a", "1"));
        EventFilter.Warning(contains: "malformed").ExpectOne(() =>
            replica.Tell(new RaftEnvelope { Shard = 0, From = 2, To = 1, Term = 1 }));   // no message inside
        EventFilter.Warning(contains: "for shard 7").ExpectOne(() =>
            replica.Tell(new RaftEnvelope { Shard = 7, From = 2, To = 1, Term = 1 }));

        KvReply after = await AskUntilOk(replica, KvRequests.Put("b", "2"));

        after.Error.Should().Be(ErrorCode.Ok);
        KvRequests.ValueOf(await AskUntilOk(replica, KvRequests.Get("a"))).Should().Be("1");
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A SQLite file may still be held for a moment; the temp folder is cleaned eventually.
        }
    }
}
