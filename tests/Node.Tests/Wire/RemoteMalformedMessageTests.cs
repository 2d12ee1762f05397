using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote;
using Akka.Serialization;
using KvActors.Node.Wire;
using KvActors.Protocol;
using KvActors.Protocol.Serialization;
using KvActors.Raft.Ids;
using KvActors.Raft.Messages;
using Xunit.Abstractions;
using Proto = KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.Wire;

/// <summary>Bytes that claim to be a KvActors message: <see cref="TamperingSerializer"/> writes them as they are.</summary>
public sealed record Garbage(string Manifest, byte[] Bytes);

/// <summary>
/// KvSerializer on the sending side, except that <see cref="Garbage"/> goes out under KvSerializer's identifier with
/// the manifest and bytes it names: what a corrupt or foreign peer would send.
/// </summary>
public sealed class TamperingSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private readonly KvSerializer _real = new(system);

    public override int Identifier => KvSerializer.SerializerId;
    public override string Manifest(object o) => o is Garbage g ? g.Manifest : _real.Manifest(o);
    public override byte[] ToBinary(object obj) => obj is Garbage g ? g.Bytes : _real.ToBinary(obj);
    public override object FromBinary(byte[] bytes, string manifest) => _real.FromBinary(bytes, manifest);
}

/// <summary>Node B is this TestKit's system; node A is started by the test and joins it over Akka.Remote on loopback.</summary>
public sealed class RemoteMalformedMessageTests(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(RemoteConfig.WithFallback(KvSerializer.Config), "node-b", output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    // A failed association would be gated for a minute: then message (c) could not arrive within the test's timeout.
    private static readonly Config RemoteConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.remote.retry-gate-closed-for = 60s
        akka.loglevel = INFO
        """);

    private static Config TamperingConfig()
    {
        static string Name(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
        return ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.kvactors = "{{Name(typeof(TamperingSerializer))}}"
            akka.actor.serialization-bindings { "{{Name(typeof(Garbage))}}" = kvactors }
            """).WithFallback(RemoteConfig).WithFallback(KvSerializer.Config);
    }

    private static Proto.RaftEnvelope Heartbeat(ulong term) => RaftWire.ToWire(new ShardId(1),
        new HeartbeatRequest(new ReplicaId(1), new ReplicaId(2), new Term(term), new LogIndex(0), 0));

    [Fact]
    public async Task A_message_that_fails_to_deserialize_is_dropped_and_the_association_survives()
    {
        var associationTrouble = CreateTestProbe();
        Sys.EventStream.Subscribe(associationTrouble.Ref, typeof(DisassociatedEvent));
        Sys.EventStream.Subscribe(associationTrouble.Ref, typeof(AssociationErrorEvent));
        ActorSystem nodeA = ActorSystem.Create("node-a", TamperingConfig());
        try
        {
            Address b = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
            IActorRef receiver = await nodeA.ActorSelection(TestActor.Path.ToStringWithAddress(b)).ResolveOne(Timeout);

            // (a) a valid envelope arrives
            receiver.Tell(Heartbeat(term: 1));
            (await ExpectMsgAsync<Proto.RaftEnvelope>(Timeout)).Should().Be(Heartbeat(term: 1));

            // (b) bytes that are no RaftEnvelope, then a manifest B does not know: each is logged by B's endpoint reader
            await EventFilter.Warning(contains: "Deserialization failed").ExpectOneAsync(Timeout,
                () => { receiver.Tell(new Garbage("kvactors.RaftEnvelope", [0x0A, 0x7F])); return Task.CompletedTask; });
            await EventFilter.Warning(contains: "kvactors.FromTheFuture").ExpectOneAsync(Timeout,
                () => { receiver.Tell(new Garbage("kvactors.FromTheFuture", [0x08, 0x01])); return Task.CompletedTask; });

            // (c) the next valid envelope still arrives, and is the next thing that does
            receiver.Tell(Heartbeat(term: 3));
            (await ExpectMsgAsync<Proto.RaftEnvelope>(Timeout)).Should().Be(Heartbeat(term: 3));
            associationTrouble.HasMessages.Should().BeFalse("the association between A and B never broke");
        }
        finally
        {
            await nodeA.Terminate().WaitAsync(Timeout);
        }
    }
}
