using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using KvActors.Node.Hosting;
using KvActors.Node.Replica;
using KvActors.Raft;
using KvActors.Raft.Ids;
using Xunit.Abstractions;
using GetReplicaHealth = KvActors.Protocol.Wire.GetReplicaHealth;
using ReplicaHealth = KvActors.Protocol.Wire.ReplicaHealth;

namespace KvActors.Node.Tests.Replica;

/// <summary>A replica answers GetReplicaHealth (what shard managers poll) from its Raft core, on real SQLite files.</summary>
public sealed class ReplicaHealthTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    public ReplicaHealthTests(ITestOutputHelper output) : base(NodeConfig(), output: output)
    {
    }

    private static Akka.Configuration.Config NodeConfig()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kvactors-tests", Guid.NewGuid().ToString("N"));
        SqliteFiles.Prepare(dir);
        return KvActorsConfig.ForSqlite(dir, KvActorsConfig.Hocon("test.conf"));
    }

    private IActorRef StartReplica(ReplicaAddress address, Membership membership) =>
        Sys.ActorOf(ReplicaActor.Props(address, ReplicaSettings.From(Sys.Settings.Config), membership,
            ImmutableDictionary<ReplicaId, ActorPath>.Empty), address.ActorName);

    [Fact]
    public async Task A_single_voter_reports_that_it_leads_with_its_term_indexes_and_membership()
    {
        var address = new ReplicaAddress(4, new ReplicaId(7));
        IActorRef replica = StartReplica(address, new Membership([new ReplicaId(7)], [], [new ReplicaId(9)]));

        await AwaitAssertAsync(async () =>
        {
            ReplicaHealth health = await replica.Ask<ReplicaHealth>(new GetReplicaHealth(), Wait);
            health.Role.Should().Be("leader");
            health.Applied.Should().BeGreaterThan(0, "a new leader commits an entry of its term and applies it");
        }, Wait, TimeSpan.FromMilliseconds(50));

        ReplicaHealth answer = await replica.Ask<ReplicaHealth>(new GetReplicaHealth(), Wait);
        var status = await replica.Ask<ReplicaStatus>(GetReplicaStatus.Instance, Wait);
        answer.Shard.Should().Be(4u);
        answer.ReplicaId.Should().Be(7ul);
        answer.Term.Should().Be(status.Raft.Term.Value).And.BeGreaterThan(0);
        answer.LeaderId.Should().Be(7ul);
        answer.Commit.Should().Be(status.Raft.Commit.Value);
        answer.Applied.Should().Be(status.Raft.Applied.Value);
        answer.LastIndex.Should().Be(status.Raft.LastLog.Index.Value).And.BeGreaterThanOrEqualTo(answer.Commit);
        answer.Voters.Should().Equal(7ul);
        answer.OutgoingVoters.Should().BeEmpty();
        answer.Learners.Should().Equal(9ul);
        answer.SnapshotIndex.Should().Be(0ul, "nothing was snapshotted yet");
    }

    [Fact]
    public async Task A_replica_its_membership_names_a_learner_reports_the_learner_role()
    {
        var address = new ReplicaAddress(2, new ReplicaId(3));
        IActorRef replica = StartReplica(address, new Membership([new ReplicaId(1)], [], [new ReplicaId(3)]));

        ReplicaHealth health = await replica.Ask<ReplicaHealth>(new GetReplicaHealth(), Wait);

        health.Role.Should().Be("learner");
        health.LeaderId.Should().Be(0ul, "it has heard from no leader");
        health.Voters.Should().Equal(1ul);
        health.Learners.Should().Equal(3ul);
    }
}
