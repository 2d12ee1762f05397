using Proto = KvActors.Protocol.Wire;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Google.Protobuf;
using KvActors.Node.Routing;
using KvActors.Protocol;
using KvActors.Raft.Ids;
using Xunit.Abstractions;
using ErrorCode = KvActors.Protocol.Wire.ErrorCode;
using KvReply = KvActors.Protocol.Wire.KvReply;
using KvRequest = KvActors.Protocol.Wire.KvRequest;
using PutRequest = KvActors.Protocol.Wire.PutRequest;
using RangeRequest = KvActors.Protocol.Wire.RangeRequest;
using TxnRequest = KvActors.Protocol.Wire.TxnRequest;
using Op = KvActors.Protocol.Wire.Op;

namespace KvActors.Node.Tests.Routing;

/// <summary>
/// The Gateway against fake replicas (test probes that answer as a replica would): it follows leader hints, remembers
/// the leader, retries other replicas with backoff, gives up at its deadline, and refuses what it cannot route.
/// </summary>
public sealed class GatewayTests : TestKit
{
    // An upper bound, not a pause: generous because CI runs test classes in parallel on 2 cores.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly TestProbe[] _replicas;

    private static readonly GatewaySettings Settings = new()
    {
        RequestDeadline = TimeSpan.FromSeconds(2),
        AttemptTimeout = TimeSpan.FromSeconds(1),        // the test answers for the probes: room for a loaded machine
        MaxAttempts = 30,
        BackoffMin = TimeSpan.FromMilliseconds(10),
        BackoffMax = TimeSpan.FromMilliseconds(50),
        MaxPendingRequests = 100,
    };

    /// <summary>For tests where replicas stay silent: several attempts fit in the deadline.</summary>
    private static readonly GatewaySettings Impatient = Settings with { AttemptTimeout = TimeSpan.FromMilliseconds(300) };

    public GatewayTests(ITestOutputHelper output) : base(output: output)
    {
        _replicas = [CreateTestProbe("replica-1"), CreateTestProbe("replica-2"), CreateTestProbe("replica-3")];
    }

    [Fact]
    public void A_NotLeader_hint_is_followed_at_once_and_the_leader_is_remembered()
    {
        IActorRef gateway = StartGateway();

        gateway.Tell(Put("a", sequence: 1), TestActor);
        Replica(1).ExpectMsg<KvRequest>(Wait);
        Replica(1).Reply(NotLeader(3));
        Replica(3).ExpectMsg<KvRequest>(Wait);
        Replica(3).Reply(Ok(7));
        ExpectMsg<KvReply>(Wait).Revision.Should().Be(7);

        gateway.Tell(Put("b", sequence: 2), TestActor);
        Replica(3).ExpectMsg<KvRequest>(Wait).Put.Key.ToStringUtf8().Should().Be("b", "the leader answered last time, so it is asked first");
        Replica(3).Reply(Ok(8));
        ExpectMsg<KvReply>(Wait).Revision.Should().Be(8);
        Replica(1).HasMessages.Should().BeFalse();
        Replica(2).HasMessages.Should().BeFalse();
    }

    [Fact]
    public void NotLeader_without_a_hint_and_Unavailable_move_on_to_the_next_replica()
    {
        IActorRef gateway = StartGateway();

        gateway.Tell(Put("a", sequence: 1), TestActor);
        Replica(1).ExpectMsg<KvRequest>(Wait);
        Replica(1).Reply(NotLeader(0));
        Replica(2).ExpectMsg<KvRequest>(Wait);
        Replica(2).Reply(new KvReply { Error = ErrorCode.Unavailable, Message = "too busy" });
        Replica(3).ExpectMsg<KvRequest>(Wait);
        Replica(3).Reply(Ok(1));

        ExpectMsg<KvReply>(Wait).Error.Should().Be(ErrorCode.Ok);
    }

    [Fact]
    public void A_replica_that_does_not_answer_within_the_attempt_timeout_is_left_for_the_next_and_its_late_answer_is_ignored()
    {
        IActorRef gateway = StartGateway();

        gateway.Tell(Put("a", sequence: 1), TestActor);
        Replica(1).ExpectMsg<KvRequest>(Wait);
        IActorRef abandoned = Replica(1).LastSender;
        KvRequest retried = Replica(2).ExpectMsg<KvRequest>(Wait);
        abandoned.Tell(Ok(1));                          // the first attempt's answer arrives after it was given up
        Replica(2).Reply(Ok(2));

        retried.Sequence.Should().Be(1, "a retry carries the same sequence, so it applies at most once");
        ExpectMsg<KvReply>(Wait).Revision.Should().Be(2);
    }

    [Fact]
    public void When_no_replica_answers_the_gateway_answers_Timeout_by_its_deadline()
    {
        IActorRef gateway = Sys.ActorOf(Gateway.Props(Impatient, Directory(1)));

        gateway.Tell(Put("a", sequence: 1), TestActor);

        KvReply reply = ExpectMsg<KvReply>(Settings.RequestDeadline + TimeSpan.FromSeconds(2));
        reply.Error.Should().Be(ErrorCode.Timeout, "an attempt without an answer may have applied");
        reply.Message.Should().Contain("shard 0");
        Replica(1).ExpectMsg<KvRequest>(Wait);
        Replica(2).ExpectMsg<KvRequest>(Wait);
        Replica(3).ExpectMsg<KvRequest>(Wait);
    }

    [Fact]
    public void When_every_replica_refuses_the_gateway_answers_Unavailable_by_its_deadline()
    {
        foreach (TestProbe replica in _replicas)
        {
            replica.SetAutoPilot(new DelegateAutoPilot((sender, _) =>
            {
                sender.Tell(NotLeader(0));
                return AutoPilot.KeepRunning;
            }));
        }
        IActorRef gateway = StartGateway();

        gateway.Tell(Put("a", sequence: 1), TestActor);

        KvReply reply = ExpectMsg<KvReply>(Settings.RequestDeadline + TimeSpan.FromSeconds(2));
        reply.Error.Should().Be(ErrorCode.Unavailable, "every attempt was refused, so nothing applied");
    }

    [Fact]
    public void Hints_that_point_at_each_other_are_followed_with_backoff_not_in_a_burst()
    {
        Replica(1).SetAutoPilot(new DelegateAutoPilot((sender, _) => { sender.Tell(NotLeader(2)); return AutoPilot.KeepRunning; }));
        Replica(2).SetAutoPilot(new DelegateAutoPilot((sender, _) => { sender.Tell(NotLeader(1)); return AutoPilot.KeepRunning; }));
        IActorRef gateway = StartGateway();

        gateway.Tell(Put("a", sequence: 1), TestActor);

        ExpectNoMsg(TimeSpan.FromMilliseconds(300));   // 30 attempts without backoff would be over in milliseconds
        ExpectMsg<KvReply>(Settings.RequestDeadline + TimeSpan.FromSeconds(2)).Error.Should().Be(ErrorCode.Unavailable);
    }

    [Fact]
    public void A_write_without_a_client_id_is_not_retried_after_an_attempt_without_an_answer()
    {
        IActorRef gateway = Sys.ActorOf(Gateway.Props(Impatient, Directory(1)));

        gateway.Tell(new KvRequest { Put = new PutRequest { Key = Bytes("a"), Value = Bytes("v") } }, TestActor);

        Replica(1).ExpectMsg<KvRequest>(Wait);
        KvReply reply = ExpectMsg<KvReply>(Wait);
        reply.Error.Should().Be(ErrorCode.Timeout);
        reply.Message.Should().Contain("not retried");
        Replica(2).HasMessages.Should().BeFalse();
        Replica(3).HasMessages.Should().BeFalse();
    }

    [Fact]
    public void Past_max_pending_requests_a_new_request_is_refused_Unavailable_at_once()
    {
        IActorRef gateway = Sys.ActorOf(Gateway.Props(Settings with { MaxPendingRequests = 1 }, Directory(1)));

        gateway.Tell(Put("a", sequence: 1), TestActor);
        Replica(1).ExpectMsg<KvRequest>(Wait);
        gateway.Tell(Put("b", sequence: 1), TestActor);

        KvReply refused = ExpectMsg<KvReply>(Wait);
        refused.Error.Should().Be(ErrorCode.Unavailable);
        refused.Message.Should().Contain("in progress");
    }

    [Fact]
    public void What_cannot_be_routed_to_one_shard_is_refused_InvalidArgument_without_asking_a_replica()
    {
        IActorRef gateway = StartGateway(shards: 8);
        (string a, string b) = KeysInDifferentShards(8);
        var crossShardTxn = new KvRequest
        {
            Txn = new TxnRequest
            {
                Success = { new Op { Put = new PutRequest { Key = Bytes(a) } }, new Op { Put = new PutRequest { Key = Bytes(b) } } },
            },
        };
        var bareRange = new KvRequest { Range = new RangeRequest { Start = Bytes("a") } };
        ShardId owner = ShardMap.ShardOfKey(Bytes(a).Span, 8);
        var wrongShard = new Proto.ShardRequest { Shard = (uint)((owner.Value + 1) % 8), Request = Put(a, sequence: 1) };

        foreach (object request in new object[] { crossShardTxn, bareRange, wrongShard, new Proto.ShardRequest { Shard = 8, Request = bareRange } })
        {
            gateway.Tell(request, TestActor);
            ExpectMsg<KvReply>(Wait).Error.Should().Be(ErrorCode.InvalidArgument, request.ToString());
        }
        foreach (TestProbe replica in _replicas) replica.HasMessages.Should().BeFalse();
    }

    [Fact]
    public void A_request_with_a_correlation_id_is_answered_with_it_and_the_node_of_the_leader_that_answered()
    {
        IActorRef gateway = StartGateway();
        KvReply fromLeader = Ok(5);

        gateway.Tell(new Proto.ShardRequest { Shard = 0, Request = Put("a", sequence: 1), CorrelationId = 41 }, TestActor);
        Replica(1).ExpectMsg<KvRequest>(Wait);
        Replica(1).Reply(NotLeader(2));
        Replica(2).ExpectMsg<KvRequest>(Wait);
        Replica(2).Reply(fromLeader);

        Proto.GatewayReply reply = ExpectMsg<Proto.GatewayReply>(Wait);
        reply.CorrelationId.Should().Be(41);
        reply.Reply.Should().BeSameAs(fromLeader, "the replica's reply is wrapped, never changed (a local replica keeps it in its sessions)");
        reply.LeaderNode.Should().Be(Replica(2).Ref.Path.Address.ToString());

        gateway.Tell(new Proto.ShardRequest { Shard = 3, Request = Put("b", sequence: 2), CorrelationId = 42 }, TestActor);
        Proto.GatewayReply refused = ExpectMsg<Proto.GatewayReply>(Wait);
        refused.CorrelationId.Should().Be(42, "a refusal carries the correlation id too");
        refused.Reply.Error.Should().Be(ErrorCode.InvalidArgument);
        refused.LeaderNode.Should().BeEmpty();
    }

    private TestProbe Replica(int id) => _replicas[id - 1];

    private IActorRef StartGateway(int shards = 1) => Sys.ActorOf(Gateway.Props(Settings, Directory(shards)));

    /// <summary>Every shard served by the same three probes (a probe answers whatever it is asked).</summary>
    private ShardDirectory Directory(int shards)
    {
        var replicas = new Dictionary<ReplicaId, ActorPath>();
        for (int i = 0; i < _replicas.Length; i++) replicas[new ReplicaId((ulong)i + 1)] = _replicas[i].Ref.Path;
        var all = new IReadOnlyDictionary<ReplicaId, ActorPath>[shards];
        for (int shard = 0; shard < shards; shard++) all[shard] = replicas;
        return new ShardDirectory(all);
    }

    private static KvRequest Put(string key, ulong sequence) => new()
    {
        ClientId = ByteString.CopyFrom(new byte[16]),
        Sequence = sequence,
        Put = new PutRequest { Key = Bytes(key), Value = Bytes("v") },
    };

    private static KvReply NotLeader(ulong hint) => new() { Error = ErrorCode.NotLeader, Message = "not the leader", LeaderReplica = hint };

    private static KvReply Ok(ulong revision) => new() { Error = ErrorCode.Ok, Revision = revision };

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static (string, string) KeysInDifferentShards(int shards)
    {
        for (int i = 1; ; i++)
        {
            if (ShardMap.ShardOfKey(Bytes($"k{i}").Span, shards) != ShardMap.ShardOfKey(Bytes("k0").Span, shards)) return ("k0", $"k{i}");
        }
    }
}
