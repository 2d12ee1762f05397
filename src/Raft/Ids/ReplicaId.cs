using System.Globalization;

namespace KvActors.Raft.Ids;

/// <summary>
/// One replica of one Raft group. Never reused: a replica whose disk was wiped comes back under a new id
/// (a new incarnation), because an empty replica under an old id could vote twice in one term.
/// <c>default</c> (0) means "nobody" (no vote cast, no known leader).
/// </summary>
public readonly record struct ReplicaId(ulong Value) : IComparable<ReplicaId>
{
    /// <summary>"Nobody": no vote cast, no leader known.</summary>
    public static ReplicaId None => default;

    /// <summary>True unless this is <see cref="None"/>.</summary>
    public bool IsSome => Value != 0;

    /// <inheritdoc />
    public int CompareTo(ReplicaId other) => Value.CompareTo(other.Value);

    /// <inheritdoc />
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
