using System.Buffers.Binary;
using System.IO.Hashing;
using Google.Protobuf;
using KvActors.Protocol.Wire;

namespace KvActors.Node.StateMachine;

// The snapshot image. Little-endian integers; lengths are u32.
//
//   magic "KVSM" | format version u8 (= 1) | applied index u64 | revision u64
//   key count u32, then per key in ascending key order:
//       key length u32 | key | value length u32 | value | create revision u64 | mod revision u64 | version u64
//   session count u32, then per session, oldest first (ascending last applied index):
//       client id (16 bytes) | last sequence u64 | last applied index u64 | reply length u32 | reply (protobuf KvReply)
//   XxHash64 (seed 0) of every byte before it, u64
//
// Everything is written in an order fixed by the state alone (key order, session age), so equal states give
// equal images on every replica.
public sealed partial class KvStateMachine
{
    /// <summary>The snapshot format this code writes and reads.</summary>
    private const byte SnapshotFormatVersion = 1;

    private static ReadOnlySpan<byte> SnapshotMagic => "KVSM"u8;

    private const int HeaderBytes = 4 + 1 + 8 + 8;
    private const int ChecksumBytes = 8;

    /// <summary>
    /// Writes the whole state — keys, revisions, <see cref="AppliedIndex"/>, sessions with their cached replies —
    /// as one binary image. Deterministic: two state machines that applied the same log return equal bytes.
    /// The image carries a format version and a checksum; <see cref="Restore"/> reads it back.
    /// </summary>
    /// <returns>A new array owned by the caller, about the size of the keys and values plus 36 bytes per key.</returns>
    public byte[] TakeSnapshot()
    {
        long size = HeaderBytes + 4 + 4 + ChecksumBytes;
        for (BPlusTree<VersionedValue>.Cursor cursor = _map.Seek([]); cursor.IsValid; cursor.MoveNext())
            size += 4 + cursor.Key.Length + 4 + cursor.Value.Value.Length + 24;
        for (ClientSession? session = _sessions.Oldest; session is not null; session = session.Newer)
            size += 16 + 8 + 8 + 4 + session.LastReply.CalculateSize();
        if (size > Array.MaxLength)
            throw new InvalidOperationException($"the shard's snapshot would be {size} bytes, more than one array holds ({Array.MaxLength})");

        var image = new byte[size];
        var writer = new SnapshotWriter(image);
        writer.Bytes(SnapshotMagic);
        writer.Byte(SnapshotFormatVersion);
        writer.UInt64(AppliedIndex);
        writer.UInt64(_revision);
        writer.UInt32((uint)_map.Count);
        for (BPlusTree<VersionedValue>.Cursor cursor = _map.Seek([]); cursor.IsValid; cursor.MoveNext())
        {
            ref readonly VersionedValue stored = ref cursor.Value;
            writer.LengthPrefixed(cursor.Key);
            writer.LengthPrefixed(stored.Value);
            writer.UInt64(stored.CreateRevision);
            writer.UInt64(stored.ModRevision);
            writer.UInt64(stored.Version);
        }
        writer.UInt32((uint)_sessions.Count);
        for (ClientSession? session = _sessions.Oldest; session is not null; session = session.Newer)
        {
            session.Id.WriteTo(writer.Take(16));
            writer.UInt64(session.LastSequence);
            writer.UInt64(session.LastAppliedIndex);
            int replyBytes = session.LastReply.CalculateSize();
            writer.UInt32((uint)replyBytes);
            session.LastReply.WriteTo(writer.Take(replyBytes));
        }
        writer.UInt64(XxHash64.HashToUInt64(image.AsSpan(0, writer.Position)));
        if (writer.Position != image.Length)
            throw new InvalidOperationException($"snapshot size was computed as {image.Length} bytes but {writer.Position} were written");
        return image;
    }

    /// <summary>
    /// Rebuilds a state machine from an image written by <see cref="TakeSnapshot"/>. If the image holds more
    /// sessions than <paramref name="settings"/> allows, the oldest are evicted, as applying would have.
    /// </summary>
    /// <param name="image">The image; not kept (keys and values are copied out).</param>
    /// <param name="settings">The settings to run with from now on.</param>
    /// <returns>A state machine equal to the one that took the snapshot.</returns>
    /// <exception cref="InvalidDataException">The image is truncated, corrupt (checksum mismatch, keys out of
    /// order, impossible revisions), or of a format version this code does not read. The message says which.</exception>
    public static KvStateMachine Restore(ReadOnlySpan<byte> image, StateMachineSettings settings)
    {
        var machine = new KvStateMachine(settings);
        if (image.Length < HeaderBytes + 4 + 4 + ChecksumBytes)
            throw Corrupt($"it is {image.Length} bytes, shorter than an empty shard's image ({HeaderBytes + 4 + 4 + ChecksumBytes})");
        if (!image[..4].SequenceEqual(SnapshotMagic))
            throw Corrupt($"it does not start with \"KVSM\" but with 0x{Convert.ToHexString(image[..4])}");
        if (image[4] != SnapshotFormatVersion)
            throw new InvalidDataException($"state machine snapshot format version {image[4]} is not supported; this node reads version {SnapshotFormatVersion}");
        ReadOnlySpan<byte> body = image[..^ChecksumBytes];
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(image[^ChecksumBytes..]);
        ulong actual = XxHash64.HashToUInt64(body);
        if (expected != actual)
            throw Corrupt($"its checksum is 0x{actual:x16} but the image says 0x{expected:x16}");

        var reader = new SnapshotReader(body[5..]);
        machine.AppliedIndex = reader.UInt64();
        machine._revision = reader.UInt64();
        machine.RestoreKeys(ref reader);
        machine.RestoreSessions(ref reader);
        if (!reader.AtEnd)
            throw Corrupt($"{reader.Remaining} bytes follow the last session");
        return machine;
    }

    private void RestoreKeys(ref SnapshotReader reader)
    {
        uint count = reader.UInt32();
        byte[]? previous = null;
        for (uint i = 0; i < count; i++)
        {
            byte[] key = reader.LengthPrefixed().ToArray();
            byte[] value = reader.LengthPrefixed().ToArray();
            ulong create = reader.UInt64(), mod = reader.UInt64(), version = reader.UInt64();
            if (key.Length == 0)
                throw Corrupt($"key {i} is empty");
            if (previous is not null && previous.AsSpan().SequenceCompareTo(key) >= 0)
                throw Corrupt($"key {i} (0x{Convert.ToHexString(key)}) does not sort after the key before it");
            if (create == 0 || mod < create || mod > _revision || version == 0)
                throw Corrupt($"key {i} has create revision {create}, mod revision {mod} and version {version} at shard revision {_revision}");
            // In ascending order every insert appends to the right-most leaf, which the tree packs full.
            _map.GetValueRefOrAddDefault(key, out _) = new VersionedValue(value, create, mod, version);
            previous = key;
        }
    }

    private void RestoreSessions(ref SnapshotReader reader)
    {
        uint count = reader.UInt32();
        ulong previousIndex = 0;
        for (uint i = 0; i < count; i++)
        {
            var id = ClientId.From(reader.Take(16));
            ulong sequence = reader.UInt64();
            ulong index = reader.UInt64();
            ReadOnlySpan<byte> replyBytes = reader.LengthPrefixed();
            if (sequence == 0 || index <= previousIndex || index > AppliedIndex)
                throw Corrupt($"session {i} (client {id}) has sequence {sequence} and last applied index {index}, after index {previousIndex}, at applied index {AppliedIndex}");
            if (_sessions.Find(id) is not null)
                throw Corrupt($"client {id} has two sessions");
            KvReply reply;
            try
            {
                reply = KvReply.Parser.ParseFrom(replyBytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw Corrupt($"the reply cached for client {id} is not a KvReply: {OneLine(e.Message)}");
            }
            _sessions.Open(id, sequence, reply, index);
            previousIndex = index;
        }
    }

    private static InvalidDataException Corrupt(string why) =>
        new($"the state machine snapshot is corrupt: {why}");

    private ref struct SnapshotWriter(Span<byte> image)
    {
        private readonly Span<byte> _image = image;

        public int Position { get; private set; }

        public Span<byte> Take(int count)
        {
            Span<byte> slice = _image.Slice(Position, count);
            Position += count;
            return slice;
        }

        public void Byte(byte value) => Take(1)[0] = value;

        public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));

        public void UInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);

        public void UInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

        public void LengthPrefixed(ReadOnlySpan<byte> bytes)
        {
            UInt32((uint)bytes.Length);
            Bytes(bytes);
        }
    }

    // Reads the image after its header; any read past the end is a truncated image.
    private ref struct SnapshotReader(ReadOnlySpan<byte> body)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private int _position;

        public readonly bool AtEnd => _position == _body.Length;

        public readonly int Remaining => _body.Length - _position;

        public ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || count > _body.Length - _position)
                throw Corrupt($"it ends early: {count} bytes wanted at offset {_position + 5} of a {_body.Length + 5}-byte body");
            ReadOnlySpan<byte> slice = _body.Slice(_position, count);
            _position += count;
            return slice;
        }

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public ReadOnlySpan<byte> LengthPrefixed()
        {
            uint length = UInt32();
            return Take(length > int.MaxValue ? -1 : (int)length);
        }
    }
}
