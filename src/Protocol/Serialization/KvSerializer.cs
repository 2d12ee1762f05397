using System.Collections.Frozen;
using System.Reflection;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace KvActors.Protocol.Serialization;

/// <summary>
/// The Akka serializer of every protobuf message in this assembly (<c>Proto/*.proto</c>): Raft messages, client
/// commands and replies over Akka.Remote, journal events and snapshots in Akka.Persistence. Bound to
/// <see cref="IMessage"/> by <see cref="Config"/> (<c>hocon/serialization.conf</c>).
/// </summary>
/// <remarks>
/// <para>The manifest is the message's full proto name (<c>kvactors.RaftEnvelope</c>), not a CLR type name: it survives
/// C# renames, and a peer cannot make us instantiate a type of its choosing. The registry is built once by scanning this
/// assembly for generated messages, so a new <c>.proto</c> file needs no change here.</para>
/// <para><see cref="FromBinary"/> throws only <see cref="SerializationException"/>, for an unknown manifest or bytes
/// that are not that message. Akka.Remote logs it with the serializer id and manifest and drops the message; the
/// association stays up (Akka.Remote <c>EndpointReader.Reading</c>). Akka.Persistence fails the recovery.</para>
/// </remarks>
public sealed class KvSerializer : SerializerWithStringManifest
{
    /// <summary>
    /// This serializer's Akka identifier, written next to every message on the wire and every journal row: never change
    /// it. Akka reserves 0–100 for itself; 5101 is clear of the ids of Akka's plugins and common third-party serializers.
    /// </summary>
    public const int SerializerId = 5101;

    /// <summary>The serializer's name in <c>akka.actor.serializers</c>.</summary>
    public const string SerializerName = "kvactors";

    private static readonly FrozenDictionary<string, MessageParser> ParsersByManifest;
    private static readonly FrozenDictionary<Type, string> ManifestsByType;

    static KvSerializer()
    {
        var parsers = new Dictionary<string, MessageParser>(StringComparer.Ordinal);
        var manifests = new Dictionary<Type, string>();
        foreach (MessageDescriptor descriptor in GeneratedMessages(typeof(KvSerializer).Assembly))
        {
            if (!parsers.TryAdd(descriptor.FullName, descriptor.Parser))
                throw new InvalidOperationException($"two generated messages are named {descriptor.FullName}");
            manifests.Add(descriptor.ClrType, descriptor.FullName);
        }
        ParsersByManifest = parsers.ToFrozenDictionary(StringComparer.Ordinal);
        ManifestsByType = manifests.ToFrozenDictionary();
    }

    /// <summary>Created by Akka from <c>akka.actor.serializers</c>.</summary>
    /// <param name="system">The actor system this serializer belongs to.</param>
    public KvSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>
    /// The HOCON that registers this serializer and binds every <see cref="IMessage"/> to it
    /// (<c>hocon/serialization.conf</c>). Put it in front of the node's or client's config, or use it as a fallback.
    /// </summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString(ReadEmbeddedHocon());

    /// <summary>The manifests this serializer reads and writes: the full proto name of every registered message.</summary>
    public static IReadOnlyCollection<string> Manifests => ParsersByManifest.Keys;

    /// <summary>The CLR types of the registered messages.</summary>
    public static IReadOnlyCollection<Type> MessageTypes => ManifestsByType.Keys;

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <summary>The message's full proto name.</summary>
    /// <exception cref="SerializationException"><paramref name="o"/> is not a message of this assembly.</exception>
    public override string Manifest(object o) =>
        ManifestsByType.TryGetValue(o.GetType(), out string? manifest) ? manifest : throw NotOurs(o);

    /// <summary>The message's protobuf encoding.</summary>
    /// <exception cref="SerializationException"><paramref name="obj"/> is not a message of this assembly.</exception>
    public override byte[] ToBinary(object obj)
    {
        // Akka's API wants a byte[] of exactly the message's size: ToByteArray computes the size once and writes once.
        if (obj is IMessage message && ManifestsByType.ContainsKey(obj.GetType())) return message.ToByteArray();
        throw NotOurs(obj);
    }

    /// <summary>Parses the message that <paramref name="manifest"/> names.</summary>
    /// <exception cref="SerializationException">The manifest names no message of this assembly, or the bytes are not
    /// such a message. Nothing else is thrown.</exception>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest is null || !ParsersByManifest.TryGetValue(manifest, out MessageParser? parser))
            throw new SerializationException(
                $"KvSerializer (id {SerializerId}) knows no message named '{manifest}': the sender runs a newer or foreign " +
                $"protocol. Dropped.");
        if (bytes is null) throw new SerializationException($"KvSerializer got no bytes for {manifest}");
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (Exception e)
        {
            // Wire and journal boundary: whatever the parser throws on corrupt bytes (InvalidProtocolBufferException,
            // or anything else), the caller sees one exception type, the one Akka.Remote treats as transient.
            throw new SerializationException(
                $"{bytes.Length} bytes are not a valid {manifest}: {e.Message}", e);
        }
    }

    private static SerializationException NotOurs(object? o) => new(
        $"KvSerializer serializes only the protobuf messages of {typeof(KvSerializer).Assembly.GetName().Name}, not " +
        $"{o?.GetType().FullName ?? "null"}");

    /// <summary>Every generated message class in <paramref name="assembly"/>, nested ones included.</summary>
    private static IEnumerable<MessageDescriptor> GeneratedMessages(Assembly assembly)
    {
        foreach (Type type in assembly.GetTypes())
        {
            if (!type.IsClass || type.IsAbstract || type.IsGenericTypeDefinition || !typeof(IMessage).IsAssignableFrom(type))
                continue;
            // Generated messages have static Descriptor and Parser properties; a hand-written IMessage without them is skipped.
            if (type.GetProperty("Parser", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is not MessageParser) continue;
            if (type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is MessageDescriptor descriptor
                && descriptor.ClrType == type)
                yield return descriptor;
        }
    }

    private static string ReadEmbeddedHocon()
    {
        const string name = "KvActors.Protocol.serialization.conf";
        using Stream stream = typeof(KvSerializer).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
