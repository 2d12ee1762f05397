using System.Collections.Immutable;
using Akka.Actor;
using KvActors.Node.Replica;
using KvActors.Node.Topology;
using KvActors.Raft.Ids;
using GetReplicaHealth = KvActors.Protocol.Wire.GetReplicaHealth;
using ReplicaHealth = KvActors.Protocol.Wire.ReplicaHealth;

namespace KvActors.Node.Tests.Management;

/// <summary>Stands in for the NodeDirectory at <c>/user/directory</c>: publishes whatever KnownNodes the test sets.</summary>
internal sealed class FakeDirectory : ReceiveActor
{
    private readonly HashSet<IActorRef> _subscribers = [];
    private KnownNodes _known = KnownNodes.Empty;

    public FakeDirectory()
    {
        Receive<SubscribeKnownNodes>(_ =>
        {
            _subscribers.Add(Sender);
            Sender.Tell(_known);
        });
        Receive<KnownNodes>(known =>
        {
            _known = known;
            foreach (IActorRef subscriber in _subscribers) subscriber.Tell(known);
        });
    }
}

/// <summary>Sets what one fake replica answers to GetReplicaHealth; null: it stays silent.</summary>
internal sealed record SetHealth(int Shard, ulong Replica, ReplicaHealth? Health);

/// <summary>Stands in for the replica host at <c>/user/replicas</c>: its children are fake replicas, named as real ones.</summary>
internal sealed class FakeReplicas : ReceiveActor
{
    public FakeReplicas()
    {
        Receive<SetHealth>(set =>
        {
            string name = new ReplicaAddress(set.Shard, new ReplicaId(set.Replica)).ActorName;
            IActorRef child = Context.Child(name);
            if (child.IsNobody()) child = Context.ActorOf(Props.Create(() => new FakeReplica()), name);
            child.Forward(set);
        });
    }

    private sealed class FakeReplica : ReceiveActor
    {
        private ReplicaHealth? _health;

        public FakeReplica()
        {
            Receive<SetHealth>(set => _health = set.Health);
            Receive<GetReplicaHealth>(_ =>
            {
                if (_health is not null) Sender.Tell(_health);
            });
        }
    }
}

/// <summary>Builders for the fakes' canned answers.</summary>
internal static class Fake
{
    public static KnownNode Node(string id, ulong replica, Address address, int[] shards,
        NodeReachability status = NodeReachability.Up) =>
        new(id, $"127.0.0.1:{7000 + replica}", address, new ReplicaId(replica), [.. shards], status);

    public static KnownNodes Nodes(params KnownNode[] nodes) => new([.. nodes]);

    public static ReplicaHealth Health(int shard, ulong replica, string role, ulong term, ulong commit, ulong applied,
        ulong[] voters, ulong[]? learners = null, ulong leader = 0)
    {
        var health = new ReplicaHealth
        {
            Shard = (uint)shard,
            ReplicaId = replica,
            Role = role,
            Term = term,
            LeaderId = leader,
            Commit = commit,
            Applied = applied,
            LastIndex = commit,
        };
        health.Voters.AddRange(voters);
        health.Learners.AddRange(learners ?? []);
        return health;
    }

    public static ImmutableArray<int> AllShards(int count) => [.. Enumerable.Range(0, count)];
}
