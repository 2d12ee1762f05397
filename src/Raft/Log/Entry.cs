using KvActors.Raft.Ids;

namespace KvActors.Raft.Log;

/// <summary>What an entry carries.</summary>
public enum EntryKind : byte
{
    /// <summary>A client command for the state machine.</summary>
    Command = 0,

    /// <summary>The empty entry a new leader appends so that it can commit entries of earlier terms (§5.4.2, §8).</summary>
    Noop = 1,

    /// <summary>A new <see cref="Membership"/> (<see cref="Membership.Encode"/>): it takes effect as soon as it is in a log.</summary>
    Config = 2,
}

/// <summary>
/// One entry of a Raft log. <see cref="Data"/> is owned by the entry once created: nobody writes to it again.
/// Record equality compares <see cref="Data"/> by reference; compare entries with <see cref="SameAs"/>.
/// </summary>
public sealed record Entry(EntryId Id, EntryKind Kind, ReadOnlyMemory<byte> Data)
{
    /// <summary>The entry's term.</summary>
    public Term Term => Id.Term;

    /// <summary>The entry's position in the log.</summary>
    public LogIndex Index => Id.Index;

    /// <summary>The size this entry counts for in byte limits: its payload plus a fixed overhead for the header.</summary>
    public long SizeBytes => Data.Length + HeaderBytes;

    /// <summary>The bytes an entry costs beyond its payload in byte limits.</summary>
    public const int HeaderBytes = 24;

    /// <summary>True when both entries have the same id, kind and payload bytes.</summary>
    public bool SameAs(Entry other) =>
        Id == other.Id && Kind == other.Kind && Data.Span.SequenceEqual(other.Data.Span);

    /// <inheritdoc />
    public override string ToString() => $"{Id}:{Kind}({Data.Length}B)";
}
