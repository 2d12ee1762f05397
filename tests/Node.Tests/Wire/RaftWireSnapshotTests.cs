using System.Collections.Immutable;
using Google.Protobuf;
using KvActors.Node.Wire;
using KvActors.Protocol;
using KvActors.Raft;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;
using static KvActors.Node.Tests.Wire.RaftWireTests;
using Proto = KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.Wire;

public sealed class RaftWireSnapshotTests
{
    private static readonly ShardId Shard = new(3);
    private static readonly ReplicaId A = new(11), B = new(22);

    private static readonly Membership Joint = new(
        [new ReplicaId(1), new ReplicaId(2), new ReplicaId(4)], [new ReplicaId(1), new ReplicaId(2), new ReplicaId(3)], [new ReplicaId(9)]);

    private static void ShouldBeSameMetadata(SnapshotMetadata actual, SnapshotMetadata expected)
    {
        actual.Last.Should().Be(expected.Last);
        actual.Membership.Should().Be(expected.Membership);   // Membership compares its sets by content
    }

    [Fact]
    public void A_snapshot_chunk_survives_the_wire_byte_for_byte()
    {
        byte[] data = new byte[10_000];
        new Random(5).NextBytes(data);
        var sent = new SnapshotRequest(A, B, new Term(8), new SnapshotMetadata(Id(7, 900), Joint),
            Offset: 4_000, Chunk: data.AsMemory(4_000, 3_000), TotalBytes: data.Length);

        var received = OverTheWire(Shard, sent).Should().BeOfType<SnapshotRequest>().Subject;

        received.Chunk.Span.SequenceEqual(sent.Chunk.Span).Should().BeTrue();
        ShouldBeSameMetadata(received.Metadata, sent.Metadata);
        (received with { Chunk = sent.Chunk, Metadata = sent.Metadata }).Should().Be(sent);
    }

    [Fact]
    public void Snapshot_response_timeout_now_and_a_transfer_vote_survive_the_wire()
    {
        RaftMessage[] messages =
        [
            new SnapshotResponse(B, A, new Term(8), Id(7, 900), NextOffset: 7_000),
            new TimeoutNowRequest(A, B, new Term(8)),
            new VoteRequest(B, A, new Term(9), Id(8, 950), PreVote: false, Transfer: true),
        ];
        foreach (RaftMessage message in messages) OverTheWire(Shard, message).Should().Be(message);
    }

    [Fact]
    public void A_configuration_entry_survives_the_wire_and_the_journal()
    {
        Entry config = new(Id(5, 11), EntryKind.Config, Joint.Encode());
        var sent = new AppendRequest(A, B, new Term(5), Id(5, 10), [config, Command(5, 12, "after")], new LogIndex(10));

        var received = OverTheWire(Shard, sent).Should().BeOfType<AppendRequest>().Subject;
        Entry[]? replayed = RaftWire.FromWire(
            Proto.EntriesAppended.Parser.ParseFrom(RaftWire.ToEntriesAppended(sent.Entries).ToByteArray()), out string? reason);

        ShouldBeSameEntries(received.Entries, sent.Entries);
        reason.Should().BeNull();
        ShouldBeSameEntries(replayed!, sent.Entries);
        Membership.Decode(received.Entries[0].Data.Span).Should().Be(Joint);
    }

    [Fact]
    public void A_replica_snapshot_survives_the_snapshot_store()
    {
        var snapshot = new Snapshot(new SnapshotMetadata(Id(7, 900), Joint), new byte[] { 1, 2, 3, 4 });

        Snapshot? back = RaftWire.FromWire(
            Proto.ReplicaSnapshot.Parser.ParseFrom(RaftWire.ToReplicaSnapshot(snapshot).ToByteArray()), out string? reason);

        reason.Should().BeNull();
        ShouldBeSameMetadata(back!.Metadata, snapshot.Metadata);
        back.Data.ToArray().Should().Equal(1, 2, 3, 4);
        RaftWire.FromWire(new Proto.ReplicaSnapshot(), out reason).Should().BeNull();
        reason.Should().Be("ReplicaSnapshot without metadata");
    }

    private static Proto.RaftEnvelope Snapshot(Action<Proto.SnapshotRequest> spoil)
    {
        var envelope = RaftWire.ToWire(Shard, new SnapshotRequest(A, B, new Term(8),
            new SnapshotMetadata(Id(7, 900), Membership.Of(new ReplicaId(1), new ReplicaId(2))), 0, new byte[10], 100));
        spoil(envelope.SnapshotRequest);
        return envelope;
    }

    public static TheoryData<string, Proto.RaftEnvelope, string> MalformedEnvelopes() => new()
    {
        { "no metadata", Snapshot(s => s.Metadata = null), "SnapshotRequest without metadata" },
        { "no membership", Snapshot(s => s.Metadata.Membership = null), "SnapshotRequest: snapshot metadata without a membership" },
        { "no last id", Snapshot(s => s.Metadata.Last = null), "SnapshotRequest: snapshot metadata without its last entry id" },
        { "at index 0", Snapshot(s => s.Metadata.Last = new Proto.EntryId()), "SnapshotRequest of a snapshot at index 0" },
        { "impossible id", Snapshot(s => s.Metadata.Last.Term = 0), "SnapshotRequest: entry id 0/900 is impossible: index 0 goes with term 0 only" },
        { "later term", Snapshot(s => s.Metadata.Last.Term = 9), "SnapshotRequest at term 8 of a snapshot at 9/900, a later term" },
        { "voter 0", Snapshot(s => s.Metadata.Membership.Voters.Add(0)), "SnapshotRequest: membership voters include replica 0" },
        { "repeated learner", Snapshot(s => s.Metadata.Membership.Learners.Add([5, 5])), "SnapshotRequest: membership learners are not sorted or repeat replica 5" },
        { "chunk past the end", Snapshot(s => s.Offset = 95), "SnapshotRequest chunk [95+10] lies outside the snapshot's 100 bytes" },
        { "offset past the end", Snapshot(s => s.Offset = ulong.MaxValue), "SnapshotRequest chunk [18446744073709551615+10] lies outside the snapshot's 100 bytes" },
        { "undecodable configuration entry", Undecodable(), "AppendRequest entry 1 of 1: configuration entry 5/11 does not decode as a membership" },
        { "response without id", Response(), "SnapshotResponse without the snapshot's id" },
        { "timeout now at term 0", TimeoutNowAtTermZero(), "TimeoutNowRequest at term 0: a request always carries a term" },
    };

    private static Proto.RaftEnvelope Undecodable()
    {
        var envelope = RaftWire.ToWire(Shard, new AppendRequest(A, B, new Term(5), Id(5, 10), [], default));
        envelope.AppendRequest.Entries.Add(new Proto.Entry { Term = 5, Index = 11, Kind = Proto.EntryKind.Config, Data = ByteString.CopyFromUtf8("nope") });
        return envelope;
    }

    private static Proto.RaftEnvelope Response()
    {
        var envelope = RaftWire.ToWire(Shard, new SnapshotResponse(B, A, new Term(8), Id(7, 900), 0));
        envelope.SnapshotResponse.Snapshot = null;
        return envelope;
    }

    private static Proto.RaftEnvelope TimeoutNowAtTermZero()
    {
        var envelope = RaftWire.ToWire(Shard, new TimeoutNowRequest(A, B, new Term(8)));
        envelope.Term = 0;
        return envelope;
    }

    [Theory]
    [MemberData(nameof(MalformedEnvelopes))]
    public void A_malformed_snapshot_or_configuration_message_is_refused_with_a_reason(string name, Proto.RaftEnvelope envelope, string expected)
    {
        var received = Proto.RaftEnvelope.Parser.ParseFrom(envelope.ToByteArray());

        RaftWire.FromWire(received, out string? reason).Should().BeNull(name);
        reason.Should().Be(expected);
    }
}
