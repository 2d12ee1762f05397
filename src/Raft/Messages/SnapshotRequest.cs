using KvActors.Raft.Ids;

namespace KvActors.Raft.Messages;

/// <summary>
/// Leader to follower (InstallSnapshot, Figure 13): bytes [<see cref="Offset"/>, Offset + Chunk.Length) of the
/// snapshot described by <see cref="Metadata"/>, whose data is <see cref="TotalBytes"/> long. Chunks are at most
/// <see cref="RaftConfig.MaxSnapshotChunkBytes"/>; the follower restores the snapshot once it holds every byte.
/// </summary>
public sealed record SnapshotRequest(ReplicaId From, ReplicaId To, Term Term, SnapshotMetadata Metadata,
    long Offset, ReadOnlyMemory<byte> Chunk, long TotalBytes) : RaftMessage(From, To, Term)
{
    /// <summary>True when this chunk ends the snapshot.</summary>
    public bool IsLast => Offset + Chunk.Length == TotalBytes;

    /// <inheritdoc />
    public override string ToString() =>
        $"{From}->{To} Snap term={Term} last={Metadata.Last} [{Offset}+{Chunk.Length}/{TotalBytes}]";
}

/// <summary>
/// Follower to leader: of the snapshot ending at <see cref="Snapshot"/>, the follower holds every byte before
/// <see cref="NextOffset"/>; send from there. (Once it restores the snapshot it answers with an
/// <see cref="AppendResponse"/> instead.)
/// </summary>
public sealed record SnapshotResponse(ReplicaId From, ReplicaId To, Term Term, EntryId Snapshot, long NextOffset)
    : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() => $"{From}->{To} SnapOk term={Term} last={Snapshot} next={NextOffset}";
}

/// <summary>Leader to the target of a leader transfer: campaign now, without waiting for a timeout or a pre-vote.</summary>
public sealed record TimeoutNowRequest(ReplicaId From, ReplicaId To, Term Term) : RaftMessage(From, To, Term)
{
    /// <inheritdoc />
    public override string ToString() => $"{From}->{To} TimeoutNow term={Term}";
}
