using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace KvActors.Node.StateMachine;

/// <summary>
/// A key as the ordered map stores it: the key's array plus its first 8 bytes as a big-endian number (zero
/// padded), kept side by side in the node so that a binary search compares numbers in one cache line and
/// follows the key array only when two prefixes are equal. Measured at 1 M random keys, this about halves
/// a point lookup, from about 1.5 µs to 0.75 µs (<c>src/Bench ordered-map</c>).
/// </summary>
/// <remarks>Zero padding keeps the order exact: if two prefixes differ, the keys order as their prefixes do
/// (a shorter key that is a prefix of a longer one pads with zeros, which sort first or tie).</remarks>
internal readonly struct KeySlot
{
    /// <summary>The key's first 8 bytes, big-endian, zero padded.</summary>
    public readonly ulong Prefix;

    /// <summary>The whole key; null only in an unused slot.</summary>
    public readonly byte[]? Key;

    /// <summary>The slot of <paramref name="key"/>.</summary>
    public KeySlot(byte[] key)
    {
        Prefix = PrefixOf(key);
        Key = key;
    }

    /// <summary>The first 8 bytes of <paramref name="key"/> as a big-endian number, zero padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong PrefixOf(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8) return BinaryPrimitives.ReadUInt64BigEndian(key);
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        key.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    /// <summary>Orders this slot's key against <paramref name="key"/>, whose prefix is <paramref name="prefix"/>:
    /// negative if it sorts first, 0 if equal, positive if after.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CompareTo(ulong prefix, ReadOnlySpan<byte> key)
    {
        if (Prefix != prefix) return Prefix < prefix ? -1 : 1;
        return Key.AsSpan().SequenceCompareTo(key);
    }
}
