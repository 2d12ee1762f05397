using KvActors.Raft.Ids;

namespace KvActors.Raft;

/// <summary>What a snapshot stands for: the log up to and including <see cref="Last"/>, and the membership then.</summary>
public sealed record SnapshotMetadata(EntryId Last, Membership Membership)
{
    /// <inheritdoc />
    public override string ToString() => $"last={Last} {Membership}";
}

/// <summary>
/// A state machine image that replaces the log up to <see cref="SnapshotMetadata.Last"/>. <see cref="Data"/> is the
/// shell's own encoding; the core only moves it. Owned by the snapshot: nobody writes to it again.
/// </summary>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data)
{
    /// <summary>The snapshot of an empty log.</summary>
    public static Snapshot None(Membership membership) => new(new SnapshotMetadata(default, membership), ReadOnlyMemory<byte>.Empty);

    /// <inheritdoc />
    public override string ToString() => $"Snapshot({Metadata}, {Data.Length}B)";
}
