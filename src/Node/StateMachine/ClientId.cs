using System.Buffers.Binary;
using KvActors.Protocol;

namespace KvActors.Node.StateMachine;

/// <summary>
/// A client's 16-byte session id (<c>KvRequest.client_id</c>), held as two big-endian halves so that ids
/// compare like their bytes and cost no allocation as dictionary keys.
/// </summary>
/// <param name="High">Bytes 0..7, big-endian.</param>
/// <param name="Low">Bytes 8..15, big-endian.</param>
internal readonly record struct ClientId(ulong High, ulong Low) : IComparable<ClientId>
{
    /// <summary>Reads an id from exactly <see cref="KvLimits.ClientIdBytes"/> bytes.</summary>
    public static ClientId From(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != KvLimits.ClientIdBytes)
            throw new ArgumentException($"a client id is {KvLimits.ClientIdBytes} bytes, not {bytes.Length}", nameof(bytes));
        return new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>Writes the id's 16 bytes to the start of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    /// <summary>Orders ids as their bytes order.</summary>
    public int CompareTo(ClientId other) => High != other.High ? High.CompareTo(other.High) : Low.CompareTo(other.Low);

    /// <summary>The id as 32 hex digits.</summary>
    public override string ToString() => $"{High:x16}{Low:x16}";
}
