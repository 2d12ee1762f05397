using System.Collections;
using System.Runtime.Serialization;
using Akka.Persistence;
using Akka.Serialization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using KvActors.Protocol.Serialization;
using Xunit.Abstractions;
using Proto = KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.Wire;

public sealed class KvSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;

    public KvSerializerTests(ITestOutputHelper output)
        : base(KvSerializer.Config.WithFallback(Persistence.DefaultConfig()), "kv-serializer", output) => _output = output;

    public static TheoryData<string> Manifests() => new(KvSerializer.Manifests.Order(StringComparer.Ordinal));

    private static MessageDescriptor DescriptorOf(string manifest) =>
        KvSerializer.MessageTypes
            .Select(static type => (MessageDescriptor)type.GetProperty("Descriptor")!.GetValue(null)!)
            .Single(descriptor => descriptor.FullName == manifest);

    [Fact]
    public void Every_message_of_every_proto_file_is_registered()
    {
        string[] expected = new[] { Proto.RaftReflection.Descriptor, Proto.ErrorsReflection.Descriptor, Proto.KvReflection.Descriptor, Proto.NodeReflection.Descriptor }
            .SelectMany(static file => AllMessages(file.MessageTypes))
            .Select(static descriptor => descriptor.FullName)
            .ToArray();

        KvSerializer.Manifests.Should().BeEquivalentTo(expected);
        KvSerializer.Manifests.Should().Contain(["kvactors.RaftEnvelope", "kvactors.EntriesAppended", "kvactors.HardStateChanged", "kvactors.ReplicaSnapshot"]);
        _output.WriteLine($"{KvSerializer.Manifests.Count} messages: {string.Join(", ", KvSerializer.Manifests.Order(StringComparer.Ordinal))}");
    }

    private static IEnumerable<MessageDescriptor> AllMessages(IEnumerable<MessageDescriptor> descriptors) =>
        descriptors.Where(static d => !d.IsMapEntry).SelectMany(static d => AllMessages(d.NestedTypes).Prepend(d));

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Every_registered_message_round_trips_through_akka_serialization_with_KvSerializer(string manifest)
    {
        IMessage message = Sample(DescriptorOf(manifest), new Random(manifest.Length), depth: 0);

        Serializer serializer = Sys.Serialization.FindSerializerFor(message);
        byte[] bytes = serializer.ToBinary(message);
        object back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, Serialization.ManifestFor(serializer, message));

        serializer.Should().BeOfType<KvSerializer>("no KvActors message may travel as JSON");
        serializer.Identifier.Should().Be(5101);
        Serialization.ManifestFor(serializer, message).Should().Be(manifest);
        back.Should().Be(message);
        if (DescriptorOf(manifest).Fields.InDeclarationOrder().Count > 0) bytes.Should().NotBeEmpty("the sample sets every field");
    }

    [Fact]
    public void Journal_events_and_snapshots_use_KvSerializer_inside_akka_persistence_envelopes()
    {
        var appended = new Proto.EntriesAppended { Entries = { new Proto.Entry { Term = 1, Index = 1, Data = ByteString.CopyFromUtf8("x") } } };
        var persistent = new Persistent(appended, sequenceNr: 1, persistenceId: "raft-3-7");
        var snapshot = new Akka.Persistence.Serialization.Snapshot(new Proto.ReplicaSnapshot { StateMachine = ByteString.CopyFromUtf8("image") });

        foreach (object wrapped in new object[] { persistent, snapshot })
        {
            Serializer outer = Sys.Serialization.FindSerializerFor(wrapped);
            object back = Sys.Serialization.Deserialize(outer.ToBinary(wrapped), outer.Identifier, Serialization.ManifestFor(outer, wrapped));
            object payload = back is IPersistentRepresentation p ? p.Payload : ((Akka.Persistence.Serialization.Snapshot)back).Data;
            object original = wrapped is IPersistentRepresentation o ? o.Payload : snapshot.Data;
            payload.Should().Be(original);
        }
        Sys.Serialization.FindSerializerFor(appended).Should().BeOfType<KvSerializer>();
    }

    [Fact]
    public void Something_else_than_our_messages_is_refused_with_a_serialization_exception()
    {
        var serializer = (KvSerializer)Sys.Serialization.FindSerializerForType(typeof(Proto.RaftEnvelope));
        var foreign = new Timestamp();   // an IMessage, but not one of ours: would bind to KvSerializer through IMessage

        serializer.Invoking(s => s.ToBinary(foreign)).Should().Throw<SerializationException>().WithMessage("*Timestamp*");
        serializer.Invoking(s => s.Manifest(foreign)).Should().Throw<SerializationException>();
        serializer.Invoking(s => s.FromBinary([], "google.protobuf.Timestamp")).Should().Throw<SerializationException>()
            .WithMessage("KvSerializer (id 5101) knows no message named 'google.protobuf.Timestamp'*");
        serializer.Invoking(s => s.FromBinary([0x0A, 0x7F], "kvactors.RaftEnvelope")).Should().Throw<SerializationException>()
            .WithMessage("2 bytes are not a valid kvactors.RaftEnvelope*");
    }

    [Fact(Timeout = 120_000)]
    public async Task Random_bytes_and_manifests_never_throw_anything_but_a_serialization_exception()
    {
        await Task.Yield();   // xunit enforces Timeout only on async tests: a hang fails the test instead of the run
        var serializer = (KvSerializer)Sys.Serialization.FindSerializerForType(typeof(Proto.RaftEnvelope));
        string[] manifests = [.. KvSerializer.Manifests, "", "kvactors.NoSuchMessage", "KvActors.Protocol.Wire.RaftEnvelope, KvActors.Protocol", null!];
        byte[][] valid = KvSerializer.Manifests.Select(m => Sample(DescriptorOf(m), new Random(1), 0).ToByteArray()).Where(b => b.Length > 0).ToArray();
        var random = new Random(20_261_125);
        int parsed = 0, refused = 0;
        for (int i = 0; i < 10_000; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[random.Next(0, 300)];
                random.NextBytes(bytes);
            }
            else
            {
                // Mutations of real messages get past the first bytes and exercise the parser's depth.
                bytes = (byte[])valid[random.Next(valid.Length)].Clone();
                for (int flips = random.Next(1, 5); flips > 0; flips--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                if (random.Next(4) == 0) bytes = bytes[..random.Next(bytes.Length)];
            }
            string manifest = manifests[random.Next(manifests.Length)];
            try
            {
                serializer.FromBinary(bytes, manifest).Should().BeAssignableTo<IMessage>();
                parsed++;
            }
            catch (SerializationException)
            {
                refused++;
            }
        }
        _output.WriteLine($"parsed {parsed}, refused {refused}");
        refused.Should().BeGreaterThan(1_000);
        parsed.Should().BeGreaterThan(100);
    }

    /// <summary>A message with every field set (one level of nesting per step, repeated fields twice), deterministically.</summary>
    internal static IMessage Sample(MessageDescriptor descriptor, Random random, int depth)
    {
        var message = (IMessage)Activator.CreateInstance(descriptor.ClrType)!;
        if (depth > 3) return message;
        foreach (FieldDescriptor field in descriptor.Fields.InFieldNumberOrder())
        {
            object container = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                var map = (IDictionary)container;
                map[SampleValue(field.MessageType.FindFieldByNumber(1), random, depth)] = SampleValue(field.MessageType.FindFieldByNumber(2), random, depth);
            }
            else if (field.IsRepeated)
            {
                var list = (IList)container;
                list.Add(SampleValue(field, random, depth));
                list.Add(SampleValue(field, random, depth));
            }
            else
            {
                field.Accessor.SetValue(message, SampleValue(field, random, depth));
            }
        }
        return message;
    }

    private static object SampleValue(FieldDescriptor field, Random random, int depth) => field.FieldType switch
    {
        FieldType.Bool => true,
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => random.Next(1, int.MaxValue),
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => random.NextInt64(1, long.MaxValue),
        FieldType.UInt32 or FieldType.Fixed32 => (uint)random.Next(1, int.MaxValue),
        FieldType.UInt64 or FieldType.Fixed64 => (ulong)random.NextInt64(1, long.MaxValue),
        FieldType.Float => (float)random.NextDouble() + 1,
        FieldType.Double => random.NextDouble() + 1,
        FieldType.String => $"s{random.Next()}",
        FieldType.Bytes => ByteString.CopyFrom([(byte)random.Next(256), (byte)random.Next(256), 0]),
        FieldType.Enum => System.Enum.ToObject(field.EnumType.ClrType, field.EnumType.Values[^1].Number),
        FieldType.Message when field.MessageType.File == WrappersReflection.Descriptor =>
            SampleValue(field.MessageType.FindFieldByNumber(1), random, depth),
        FieldType.Message => Sample(field.MessageType, random, depth + 1),
        _ => throw new NotSupportedException($"{field.FullName}: {field.FieldType}"),
    };
}
