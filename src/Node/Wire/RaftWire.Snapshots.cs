using System.Collections.Immutable;
using Google.Protobuf;
using Google.Protobuf.Collections;
using KvActors.Raft;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;
using Proto = KvActors.Protocol.Wire;

namespace KvActors.Node.Wire;

public static partial class RaftWire
{
    // ----------------------------------------------------------------------------------------------------------------
    // Outbound
    // ----------------------------------------------------------------------------------------------------------------

    private static Proto.SnapshotRequest ToWire(SnapshotRequest m) => new()
    {
        Metadata = ToWire(m.Metadata),
        Offset = checked((ulong)m.Offset),
        // A chunk is a slice of a snapshot's data, which nobody writes once the snapshot exists.
        Chunk = m.Chunk.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(m.Chunk),
        TotalBytes = checked((ulong)m.TotalBytes),
    };

    /// <summary>The wire form of an entry id.</summary>
    public static Proto.EntryId ToWire(EntryId id) => new() { Term = id.Term.Value, Index = id.Index.Value };

    /// <summary>The wire form of a membership: each set in id order.</summary>
    public static Proto.Membership ToWire(Membership membership)
    {
        var wire = new Proto.Membership();
        foreach (ReplicaId id in membership.Voters) wire.Voters.Add(id.Value);
        foreach (ReplicaId id in membership.OutgoingVoters) wire.OutgoingVoters.Add(id.Value);
        foreach (ReplicaId id in membership.Learners) wire.Learners.Add(id.Value);
        return wire;
    }

    /// <summary>The wire form of a snapshot's metadata.</summary>
    public static Proto.SnapshotMetadata ToWire(SnapshotMetadata metadata) => new()
    {
        Last = ToWire(metadata.Last), Membership = ToWire(metadata.Membership),
    };

    /// <summary>
    /// The Akka snapshot-store payload for <paramref name="snapshot"/>: its metadata and, as the state machine image,
    /// its <see cref="Snapshot.Data"/> (wrapped, not copied: a snapshot's data is never written once it exists).
    /// </summary>
    public static Proto.ReplicaSnapshot ToReplicaSnapshot(Snapshot snapshot) => new()
    {
        Metadata = ToWire(snapshot.Metadata),
        StateMachine = snapshot.Data.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(snapshot.Data),
    };

    /// <summary>
    /// The whole durable state of a replica as one snapshot-store payload: the snapshot, the hard state, and the log
    /// entries after the snapshot (<paramref name="tail"/>), so that recovery from it alone loses nothing.
    /// </summary>
    public static Proto.ReplicaSnapshot ToReplicaSnapshot(Snapshot snapshot, HardState hardState, IReadOnlyList<Entry> tail)
    {
        Proto.ReplicaSnapshot wire = ToReplicaSnapshot(snapshot);
        wire.HardState = ToWire(hardState);
        foreach (Entry entry in tail) wire.Tail.Add(ToWire(entry));
        return wire;
    }

    /// <summary>The hard state and log tail a <see cref="Proto.ReplicaSnapshot"/> carries; null with a reason when malformed.</summary>
    public static (HardState HardState, Entry[] Tail)? ReplicaStateFromWire(Proto.ReplicaSnapshot wire, out string? reason)
    {
        var tail = new Entry[wire.Tail.Count];
        for (int i = 0; i < tail.Length; i++)
        {
            if (FromWire(wire.Tail[i], out reason) is not { } entry)
            {
                reason = $"ReplicaSnapshot tail: {reason}";
                return null;
            }
            if (i > 0 && entry.Index != tail[i - 1].Index.Next())
            {
                reason = $"ReplicaSnapshot tail: entry {entry.Id} does not follow {tail[i - 1].Id}";
                return null;
            }
            tail[i] = entry;
        }
        reason = null;
        return (wire.HardState is null ? default : FromWire(wire.HardState), tail);
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Inbound, validated
    // ----------------------------------------------------------------------------------------------------------------

    private static SnapshotRequest? FromWire(ReplicaId from, ReplicaId to, Term term, Proto.SnapshotRequest wire, out string? reason)
    {
        if (wire.Metadata is null) return Refuse<SnapshotRequest>("SnapshotRequest without metadata", out reason);
        if (FromWire(wire.Metadata, out reason) is not { } metadata)
            return Refuse<SnapshotRequest>($"SnapshotRequest: {reason}", out reason);
        if (metadata.Last.Index.Value == 0)
            return Refuse<SnapshotRequest>("SnapshotRequest of a snapshot at index 0", out reason);
        if (metadata.Last.Term > term)
            return Refuse<SnapshotRequest>($"SnapshotRequest at term {term} of a snapshot at {metadata.Last}, a later term", out reason);
        ulong chunk = (ulong)wire.Chunk.Length;
        if (wire.TotalBytes > long.MaxValue || wire.Offset > wire.TotalBytes || chunk > wire.TotalBytes - wire.Offset)
            return Refuse<SnapshotRequest>(
                $"SnapshotRequest chunk [{wire.Offset}+{chunk}] lies outside the snapshot's {wire.TotalBytes} bytes", out reason);
        reason = null;
        // ByteString is immutable and this one belongs to a message parsed for us alone: share its buffer.
        return new SnapshotRequest(from, to, term, metadata, (long)wire.Offset, wire.Chunk.Memory, (long)wire.TotalBytes);
    }

    private static SnapshotResponse? FromWire(ReplicaId from, ReplicaId to, Term term, Proto.SnapshotResponse wire, out string? reason)
    {
        if (wire.Snapshot is null) return Refuse<SnapshotResponse>("SnapshotResponse without the snapshot's id", out reason);
        if (FromWire(wire.Snapshot, out reason) is not { } snapshot)
            return Refuse<SnapshotResponse>($"SnapshotResponse: {reason}", out reason);
        if (wire.NextOffset > long.MaxValue)
            return Refuse<SnapshotResponse>($"SnapshotResponse next offset {wire.NextOffset} is out of range", out reason);
        reason = null;
        return new SnapshotResponse(from, to, term, snapshot, (long)wire.NextOffset);
    }

    /// <summary>An entry id: index 0 ("before the first entry") goes with term 0 only, and a real entry has a term.</summary>
    private static EntryId? FromWire(Proto.EntryId wire, out string? reason)
    {
        if ((wire.Index == 0) != (wire.Term == 0))
        {
            reason = $"entry id {wire.Term}/{wire.Index} is impossible: index 0 goes with term 0 only";
            return null;
        }
        reason = null;
        return new EntryId(new Term(wire.Term), new LogIndex(wire.Index));
    }

    /// <summary>A membership: every id other than 0, each set sorted without duplicates (as <see cref="ToWire(Membership)"/> writes it).</summary>
    /// <param name="wire">A received membership.</param>
    /// <param name="reason">Why it is refused; null when it is not.</param>
    /// <returns>The membership, or null when it is malformed.</returns>
    public static Membership? FromWire(Proto.Membership wire, out string? reason)
    {
        if (ReplicaSet(wire.Voters, "voters", out reason) is not { } voters) return null;
        if (ReplicaSet(wire.OutgoingVoters, "outgoing voters", out reason) is not { } outgoing) return null;
        if (ReplicaSet(wire.Learners, "learners", out reason) is not { } learners) return null;
        return new Membership(voters, outgoing, learners);
    }

    private static ImmutableSortedSet<ReplicaId>? ReplicaSet(RepeatedField<ulong> ids, string name, out string? reason)
    {
        if (ids.Count == 0)
        {
            reason = null;
            return ImmutableSortedSet<ReplicaId>.Empty;
        }
        var builder = ImmutableSortedSet.CreateBuilder<ReplicaId>();
        ulong previous = 0;
        foreach (ulong id in ids)
        {
            if (id <= previous)
                return Refuse<ImmutableSortedSet<ReplicaId>>(
                    id == 0 ? $"membership {name} include replica 0" : $"membership {name} are not sorted or repeat replica {id}", out reason);
            builder.Add(new ReplicaId(id));
            previous = id;
        }
        reason = null;
        return builder.ToImmutable();
    }

    /// <summary>A snapshot's metadata: its last entry id and the membership then, both well formed.</summary>
    /// <param name="wire">Received or stored metadata.</param>
    /// <param name="reason">Why it is refused; null when it is not.</param>
    /// <returns>The metadata, or null when it is malformed.</returns>
    public static SnapshotMetadata? FromWire(Proto.SnapshotMetadata wire, out string? reason)
    {
        if (wire.Last is null) return Refuse<SnapshotMetadata>("snapshot metadata without its last entry id", out reason);
        if (wire.Membership is null) return Refuse<SnapshotMetadata>("snapshot metadata without a membership", out reason);
        if (FromWire(wire.Last, out reason) is not { } last) return null;
        if (FromWire(wire.Membership, out reason) is not { } membership) return null;
        return new SnapshotMetadata(last, membership);
    }

    /// <summary>
    /// The core's snapshot of an Akka snapshot-store payload: the metadata, and the state machine image as
    /// <see cref="Snapshot.Data"/> (the parsed message's own buffer, not a copy).
    /// </summary>
    /// <param name="wire">A snapshot read back from the snapshot store.</param>
    /// <param name="reason">Why it is refused; null when it is not.</param>
    /// <returns>The snapshot, or null when it is malformed.</returns>
    public static Snapshot? FromWire(Proto.ReplicaSnapshot wire, out string? reason)
    {
        if (wire.Metadata is null) return Refuse<Snapshot>("ReplicaSnapshot without metadata", out reason);
        if (FromWire(wire.Metadata, out reason) is not { } metadata) return Refuse<Snapshot>($"ReplicaSnapshot: {reason}", out reason);
        return new Snapshot(metadata, wire.StateMachine.Memory);
    }
}
