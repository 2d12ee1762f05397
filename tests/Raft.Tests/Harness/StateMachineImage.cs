using System.Buffers.Binary;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft.Tests.Harness;

/// <summary>
/// The snapshot image of a <see cref="TestCluster"/> replica's state machine: every entry it applied, in order, each
/// as term (8 bytes), index (8), kind (1), payload length (4) and payload, little-endian. Deterministic, so two
/// replicas that applied the same entries make the same image, and a restored replica's <see cref="TestCluster.Applied"/>
/// can be compared entry by entry with its leader's.
/// </summary>
public static class StateMachineImage
{
    private const int HeaderBytes = 8 + 8 + 1 + 4;

    /// <summary>The image of a state machine that applied <paramref name="applied"/>.</summary>
    public static byte[] Encode(IEnumerable<Entry> applied)
    {
        var bytes = new List<byte>();
        Span<byte> header = stackalloc byte[HeaderBytes];
        foreach (Entry entry in applied)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(header, entry.Term.Value);
            BinaryPrimitives.WriteUInt64LittleEndian(header[8..], entry.Index.Value);
            header[16] = (byte)entry.Kind;
            BinaryPrimitives.WriteInt32LittleEndian(header[17..], entry.Data.Length);
            bytes.AddRange(header);
            bytes.AddRange(entry.Data.Span);
        }
        return bytes.ToArray();
    }

    /// <summary>The entries an image holds.</summary>
    /// <exception cref="FormatException">The bytes are not an image (a snapshot was corrupted on its way).</exception>
    public static List<Entry> Decode(ReadOnlySpan<byte> image)
    {
        var entries = new List<Entry>();
        while (image.Length > 0)
        {
            if (image.Length < HeaderBytes) throw new FormatException($"{image.Length} trailing bytes are not an entry");
            var id = new EntryId(new Term(BinaryPrimitives.ReadUInt64LittleEndian(image)),
                new LogIndex(BinaryPrimitives.ReadUInt64LittleEndian(image[8..])));
            var kind = (EntryKind)image[16];
            int length = BinaryPrimitives.ReadInt32LittleEndian(image[17..]);
            if (length < 0 || length > image.Length - HeaderBytes)
                throw new FormatException($"entry {id} claims {length} bytes, {image.Length - HeaderBytes} are left");
            entries.Add(new Entry(id, kind, image.Slice(HeaderBytes, length).ToArray()));
            image = image[(HeaderBytes + length)..];
        }
        return entries;
    }
}
