using Google.Protobuf;
using KvActors.Node.StateMachine;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>A state machine fed through a log of its own: each <see cref="Apply"/> is the next index.</summary>
internal sealed class Shard(KvStateMachine machine)
{
    public Shard(StateMachineSettings? settings = null) : this(new KvStateMachine(settings ?? StateMachineSettings.Default)) { }

    public KvStateMachine Machine { get; private set; } = machine;

    public KvReply Apply(KvRequest request) => Apply(request.ToByteArray());

    public KvReply Apply(byte[] command) => Machine.Apply(Machine.AppliedIndex + 1, command);

    public void NoOp() => Machine.AdvanceIndex(Machine.AppliedIndex + 1);

    public KvReply Read(KvRequest request) => Machine.Read(request);

    public byte[] Snapshot() => Machine.TakeSnapshot();

    /// <summary>Replaces the machine by one restored from its own snapshot.</summary>
    public void RestartFromSnapshot(StateMachineSettings? settings = null) =>
        Machine = KvStateMachine.Restore(Machine.TakeSnapshot(), settings ?? StateMachineSettings.Default);

    /// <summary>Every pair as "key=value@create/mod/version", in key order.</summary>
    public List<string> Dump() => [.. Machine.Pairs().Select(Describe)];

    public static string Describe(KeyValue kv) =>
        $"{Kv.Text(kv.Key)}={Kv.Text(kv.Value)}@{kv.CreateRevision}/{kv.ModRevision}/{kv.Version}";
}
