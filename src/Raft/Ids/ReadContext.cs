using System.Globalization;

namespace KvActors.Raft.Ids;

/// <summary>The shell's name for one ReadIndex request; the core hands it back in a <see cref="ReadState"/>.</summary>
public readonly record struct ReadContext(ulong Value)
{
    /// <inheritdoc />
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
