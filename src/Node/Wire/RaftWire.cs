using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Google.Protobuf;
using KvActors.Protocol;
using KvActors.Raft;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;
using Proto = KvActors.Protocol.Wire;

namespace KvActors.Node.Wire;

/// <summary>
/// Converts the Raft core's messages, entries and hard state to their wire and journal form (<c>raft.proto</c>) and
/// back. Outbound conversion trusts the core. Inbound conversion validates once, where data enters (etcd's
/// <c>logSlice.valid()</c>), everything the core would otherwise assert on: a malformed message comes back as
/// <c>null</c> with a one-line reason, never an exception, and the caller logs it with its sender and drops it.
/// </summary>
/// <remarks>
/// Payloads are not copied: an outbound entry's data is wrapped (an <see cref="Entry"/>'s bytes are never written
/// again), and an inbound entry's data is the parsed message's own buffer, which nothing writes either.
/// Snapshots, membership and the snapshot-store payload are in <c>RaftWire.Snapshots.cs</c>.
/// </remarks>
public static partial class RaftWire
{
    // ----------------------------------------------------------------------------------------------------------------
    // Outbound: core -> wire
    // ----------------------------------------------------------------------------------------------------------------

    /// <summary>The envelope that carries <paramref name="message"/> to its <see cref="RaftMessage.To"/> replica.</summary>
    /// <param name="shard">The Raft group the message belongs to; not negative.</param>
    /// <param name="message">Any message the core emits.</param>
    /// <exception cref="ArgumentOutOfRangeException">A message kind this class does not know (a bug).</exception>
    public static Proto.RaftEnvelope ToWire(ShardId shard, RaftMessage message)
    {
        var envelope = new Proto.RaftEnvelope
        {
            Shard = checked((uint)shard.Value),
            From = message.From.Value,
            To = message.To.Value,
            Term = message.Term.Value,
        };
        switch (message)
        {
            case AppendRequest m: envelope.AppendRequest = ToWire(m); break;
            case AppendResponse m:
                envelope.AppendResponse = new Proto.AppendResponse
                {
                    Success = m.Success, Index = m.Index.Value, HintTerm = m.Hint.Term.Value, HintIndex = m.Hint.Index.Value,
                };
                break;
            case HeartbeatRequest m:
                envelope.HeartbeatRequest = new Proto.HeartbeatRequest { Commit = m.Commit.Value, ReadRound = m.ReadRound };
                break;
            case HeartbeatResponse m: envelope.HeartbeatResponse = new Proto.HeartbeatResponse { ReadRound = m.ReadRound }; break;
            case VoteRequest m:
                envelope.VoteRequest = new Proto.VoteRequest
                {
                    LastLogTerm = m.LastLog.Term.Value, LastLogIndex = m.LastLog.Index.Value, PreVote = m.PreVote,
                    Transfer = m.Transfer,
                };
                break;
            case VoteResponse m: envelope.VoteResponse = new Proto.VoteResponse { PreVote = m.PreVote, Granted = m.Granted }; break;
            case SnapshotRequest m: envelope.SnapshotRequest = ToWire(m); break;
            case SnapshotResponse m:
                envelope.SnapshotResponse = new Proto.SnapshotResponse { Snapshot = ToWire(m.Snapshot), NextOffset = checked((ulong)m.NextOffset) };
                break;
            case TimeoutNowRequest: envelope.TimeoutNowRequest = new Proto.TimeoutNowRequest(); break;
            default: throw new ArgumentOutOfRangeException(nameof(message), message.GetType().Name, "no wire form for this Raft message");
        }
        return envelope;
    }

    private static Proto.AppendRequest ToWire(AppendRequest m)
    {
        var wire = new Proto.AppendRequest { PrevLogTerm = m.Prev.Term.Value, PrevLogIndex = m.Prev.Index.Value, Commit = m.Commit.Value };
        if (m.Entries.Length > 0)
        {
            wire.Entries.Capacity = m.Entries.Length;
            foreach (Entry entry in m.Entries) wire.Entries.Add(ToWire(entry));
        }
        return wire;
    }

    /// <summary>The wire form of one log entry. Its data is wrapped, not copied.</summary>
    public static Proto.Entry ToWire(Entry entry) => new()
    {
        Term = entry.Term.Value,
        Index = entry.Index.Value,
        Kind = ToWire(entry.Kind),
        // An entry's bytes are never written once it exists (Entry's contract), so sharing them is safe.
        Data = entry.Data.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(entry.Data),
    };

    private static Proto.EntryKind ToWire(EntryKind kind) => kind switch
    {
        EntryKind.Command => Proto.EntryKind.Command,
        EntryKind.Noop => Proto.EntryKind.Noop,
        EntryKind.Config => Proto.EntryKind.Config,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no wire form for this entry kind"),
    };

    /// <summary>
    /// The journal event for <paramref name="entries"/> (a <see cref="Ready.Entries"/>): on replay, appending at index i
    /// replaces every entry at or after i. Their data is wrapped, not copied.
    /// </summary>
    /// <param name="entries">At least one entry, consecutive.</param>
    public static Proto.EntriesAppended ToEntriesAppended(IReadOnlyList<Entry> entries)
    {
        var wire = new Proto.EntriesAppended();
        wire.Entries.Capacity = entries.Count;
        for (int i = 0; i < entries.Count; i++) wire.Entries.Add(ToWire(entries[i]));
        return wire;
    }

    /// <summary>The journal event for a new <see cref="HardState"/>.</summary>
    public static Proto.HardStateChanged ToWire(HardState hardState) => new()
    {
        Term = hardState.Term.Value, Vote = hardState.Vote.Value, Commit = hardState.Commit.Value,
    };

    // ----------------------------------------------------------------------------------------------------------------
    // Inbound: wire -> core, validated
    // ----------------------------------------------------------------------------------------------------------------

    /// <summary>The shard an envelope is addressed to, if the cluster has it.</summary>
    /// <param name="envelope">A received envelope.</param>
    /// <param name="shardCount">The cluster's number of shards.</param>
    /// <param name="reason">Why the shard is refused; null when it is not.</param>
    /// <returns>The shard, or null when it is outside <c>[0, shardCount)</c>.</returns>
    public static ShardId? ShardOf(Proto.RaftEnvelope envelope, int shardCount, out string? reason)
    {
        if (envelope.Shard >= (uint)shardCount)
        {
            reason = $"shard {envelope.Shard} does not exist: the cluster has {shardCount} shards";
            return null;
        }
        reason = null;
        return new ShardId((int)envelope.Shard);
    }

    /// <summary>
    /// The Raft message an envelope carries, checked for everything the core relies on: a message is set, both
    /// replicas are named and differ, requests carry a term, and an append's entries are consecutive after its previous
    /// entry with terms that never decrease nor pass the message's term. The caller still checks the shard
    /// (<see cref="ShardOf"/>) and that <see cref="RaftMessage.To"/> is the local replica.
    /// </summary>
    /// <param name="envelope">A received envelope.</param>
    /// <param name="reason">A one-line reason when the envelope is refused; null when it is accepted.</param>
    /// <returns>The message, or null when the envelope is malformed.</returns>
    public static RaftMessage? FromWire(Proto.RaftEnvelope envelope, out string? reason)
    {
        var from = new ReplicaId(envelope.From);
        var to = new ReplicaId(envelope.To);
        var term = new Term(envelope.Term);
        if (envelope.MessageCase == Proto.RaftEnvelope.MessageOneofCase.None)
            return Refuse<RaftMessage>("the envelope carries no message (unknown to this version, or empty)", out reason);
        if (!from.IsSome) return Refuse<RaftMessage>($"{envelope.MessageCase} from replica 0", out reason);
        if (!to.IsSome) return Refuse<RaftMessage>($"{envelope.MessageCase} to replica 0", out reason);
        if (from == to) return Refuse<RaftMessage>($"{envelope.MessageCase} from replica {from} to itself", out reason);
        if (term.Value == 0 && IsRequest(envelope.MessageCase))
            return Refuse<RaftMessage>($"{envelope.MessageCase} at term 0: a request always carries a term", out reason);

        reason = null;
        switch (envelope.MessageCase)
        {
            case Proto.RaftEnvelope.MessageOneofCase.AppendRequest:
                return FromWire(from, to, term, envelope.AppendRequest, out reason);
            case Proto.RaftEnvelope.MessageOneofCase.AppendResponse:
            {
                Proto.AppendResponse m = envelope.AppendResponse;
                return new AppendResponse(from, to, term, m.Success, new LogIndex(m.Index),
                    new EntryId(new Term(m.HintTerm), new LogIndex(m.HintIndex)));
            }
            case Proto.RaftEnvelope.MessageOneofCase.HeartbeatRequest:
                return new HeartbeatRequest(from, to, term, new LogIndex(envelope.HeartbeatRequest.Commit), envelope.HeartbeatRequest.ReadRound);
            case Proto.RaftEnvelope.MessageOneofCase.HeartbeatResponse:
                return new HeartbeatResponse(from, to, term, envelope.HeartbeatResponse.ReadRound);
            case Proto.RaftEnvelope.MessageOneofCase.VoteRequest:
            {
                Proto.VoteRequest m = envelope.VoteRequest;
                var lastLog = new EntryId(new Term(m.LastLogTerm), new LogIndex(m.LastLogIndex));
                // A candidate's log holds no entry of a term later than the one it campaigns in.
                if (lastLog.Term > term)
                    return Refuse<RaftMessage>($"VoteRequest at term {term} with a last entry {lastLog} of a later term", out reason);
                return new VoteRequest(from, to, term, lastLog, m.PreVote, m.Transfer);
            }
            case Proto.RaftEnvelope.MessageOneofCase.VoteResponse:
                return new VoteResponse(from, to, term, envelope.VoteResponse.PreVote, envelope.VoteResponse.Granted);
            case Proto.RaftEnvelope.MessageOneofCase.SnapshotRequest:
                return FromWire(from, to, term, envelope.SnapshotRequest, out reason);
            case Proto.RaftEnvelope.MessageOneofCase.SnapshotResponse:
                return FromWire(from, to, term, envelope.SnapshotResponse, out reason);
            case Proto.RaftEnvelope.MessageOneofCase.TimeoutNowRequest:
                return new TimeoutNowRequest(from, to, term);
            default:
                return Refuse<RaftMessage>($"{envelope.MessageCase}: this build's Raft core has no such message", out reason);
        }
    }

    private static bool IsRequest(Proto.RaftEnvelope.MessageOneofCase kind) => kind is
        Proto.RaftEnvelope.MessageOneofCase.AppendRequest or Proto.RaftEnvelope.MessageOneofCase.HeartbeatRequest or
        Proto.RaftEnvelope.MessageOneofCase.VoteRequest or Proto.RaftEnvelope.MessageOneofCase.SnapshotRequest or
        Proto.RaftEnvelope.MessageOneofCase.TimeoutNowRequest;

    private static AppendRequest? FromWire(ReplicaId from, ReplicaId to, Term term, Proto.AppendRequest wire, out string? reason)
    {
        var prev = new EntryId(new Term(wire.PrevLogTerm), new LogIndex(wire.PrevLogIndex));
        if (prev.Term > term)
            return Refuse<AppendRequest>($"AppendRequest at term {term} after entry {prev} of a later term", out reason);
        int count = wire.Entries.Count;
        if (count == 0)
        {
            reason = null;
            return new AppendRequest(from, to, term, prev, ImmutableArray<Entry>.Empty, new LogIndex(wire.Commit));
        }
        if (prev.Index.Value > ulong.MaxValue - (ulong)count)
            return Refuse<AppendRequest>($"AppendRequest of {count} entries after index {prev.Index} overflows the log", out reason);
        var entries = new Entry[count];
        Term previousTerm = prev.Term;
        for (int i = 0; i < count; i++)
        {
            if (FromWire(wire.Entries[i], out reason) is not { } entry)
                return Refuse<AppendRequest>($"AppendRequest entry {i + 1} of {count}: {reason}", out reason);
            if (CheckNext(entry, prev.Index.Plus((ulong)i + 1), previousTerm) is { } why)
                return Refuse<AppendRequest>($"AppendRequest after {prev}, entry {i + 1} of {count}: {why}", out reason);
            if (entry.Term > term)
                return Refuse<AppendRequest>($"AppendRequest at term {term} carries entry {entry.Id} of a later term", out reason);
            entries[i] = entry;
            previousTerm = entry.Term;
        }
        reason = null;
        // The array is never touched again: hand it to the message without a copy.
        return new AppendRequest(from, to, term, prev, ImmutableCollectionsMarshal.AsImmutableArray(entries), new LogIndex(wire.Commit));
    }

    /// <summary>Why <paramref name="entry"/> cannot follow an entry of <paramref name="previousTerm"/> at <paramref name="index"/> - 1.</summary>
    private static string? CheckNext(Entry entry, LogIndex index, Term previousTerm)
    {
        if (entry.Index != index) return $"entry {entry.Id} is not at the next index {index}";
        if (entry.Term < previousTerm) return $"entry {entry.Id} has an earlier term than the entry before it ({previousTerm})";
        return null;
    }

    /// <summary>One log entry: a known kind at a term and index of at least 1. Its data is the message's own buffer.</summary>
    /// <param name="wire">A received entry.</param>
    /// <param name="reason">Why it is refused; null when it is not.</param>
    /// <returns>The entry, or null when it is malformed.</returns>
    public static Entry? FromWire(Proto.Entry wire, out string? reason)
    {
        var id = new EntryId(new Term(wire.Term), new LogIndex(wire.Index));
        if (wire.Term == 0) return Refuse<Entry>($"entry {id} has term 0", out reason);
        if (wire.Index == 0) return Refuse<Entry>($"entry {id} has index 0", out reason);
        EntryKind kind;
        switch (wire.Kind)
        {
            case Proto.EntryKind.Command: kind = EntryKind.Command; break;
            case Proto.EntryKind.Noop: kind = EntryKind.Noop; break;
            case Proto.EntryKind.Config:
                // The core asserts that every configuration entry decodes: check it here, where it enters.
                if (Membership.Decode(wire.Data.Span) is null)
                    return Refuse<Entry>($"configuration entry {id} does not decode as a membership", out reason);
                kind = EntryKind.Config;
                break;
            default: return Refuse<Entry>($"entry {id} is of unknown kind {(int)wire.Kind}", out reason);
        }
        reason = null;
        // ByteString is immutable and this one belongs to a message parsed for us alone: share its buffer.
        return new Entry(id, kind, wire.Data.Memory);
    }

    /// <summary>
    /// The entries of a journal event, in order, checked as they were written: at least one, consecutive, terms never
    /// decreasing. Replay appends them at the first one's index, replacing every entry at or after it.
    /// </summary>
    /// <param name="wire">A journal event read back.</param>
    /// <param name="reason">Why it is refused; null when it is not.</param>
    /// <returns>A new array the caller owns, or null when the event is malformed.</returns>
    public static Entry[]? FromWire(Proto.EntriesAppended wire, out string? reason)
    {
        int count = wire.Entries.Count;
        if (count == 0) return Refuse<Entry[]>("EntriesAppended holds no entries", out reason);
        var entries = new Entry[count];
        for (int i = 0; i < count; i++)
        {
            if (FromWire(wire.Entries[i], out reason) is not { } entry)
                return Refuse<Entry[]>($"EntriesAppended entry {i + 1} of {count}: {reason}", out reason);
            if (i > 0 && CheckNext(entry, entries[i - 1].Index.Next(), entries[i - 1].Term) is { } why)
                return Refuse<Entry[]>($"EntriesAppended entry {i + 1} of {count}: {why}", out reason);
            entries[i] = entry;
        }
        reason = null;
        return entries;
    }

    /// <summary>The hard state of a journal event. Every combination of values is representable.</summary>
    public static HardState FromWire(Proto.HardStateChanged wire) =>
        new(new Term(wire.Term), new ReplicaId(wire.Vote), new LogIndex(wire.Commit));

    private static T? Refuse<T>(string why, out string? reason) where T : class
    {
        reason = why;
        return null;
    }
}
