using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using KvActors.Node.Hosting;
using KvActors.Node.Topology;
using Xunit.Abstractions;

namespace KvActors.Node.Tests.Management;

/// <summary>
/// One ActorSystem with the node's configuration and the cluster provider, joined to itself so that Cluster Sharding
/// runs, with a fake directory at <c>/user/directory</c> and fake replicas under <c>/user/replicas</c>. Every "node"
/// the fake directory lists lives at this system's address, so the managers' remote-style paths resolve here.
/// </summary>
public abstract class ShardingTestKit : TestKit, IAsyncLifetime
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    protected ShardingTestKit(ITestOutputHelper output) : base(Config(), output: output)
    {
        Directory = Sys.ActorOf(Props.Create(() => new FakeDirectory()), NodePaths.Directory);
        Replicas = Sys.ActorOf(Props.Create(() => new FakeReplicas()), NodePaths.Replicas);
    }

    protected IActorRef Directory { get; }

    protected IActorRef Replicas { get; }

    protected Address Self => Cluster.Get(Sys).SelfAddress;

    private static Akka.Configuration.Config Config()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kvactors-tests", Guid.NewGuid().ToString("N"));
        SqliteFiles.Prepare(dir);
        // Polls fast enough for quick tests, slow enough that a loaded machine's local answers arrive in time; INFO so
        // that the leader-change log can be checked.
        return KvActorsConfig.ForSqlite(dir, """
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.loglevel = INFO
            kvactors.shard-manager { poll-interval = 500ms, poll-timeout = 500ms }
            """, KvActorsConfig.Hocon("test.conf"));
    }

    public async Task InitializeAsync()
    {
        Cluster cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        await AwaitConditionAsync(() => Task.FromResult(cluster.SelfMember.Status == MemberStatus.Up), Wait);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
