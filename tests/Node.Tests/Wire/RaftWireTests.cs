using System.Collections.Immutable;
using Google.Protobuf;
using KvActors.Node.Wire;
using KvActors.Protocol;
using KvActors.Raft;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;
using Proto = KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.Wire;

public sealed class RaftWireTests
{
    private static readonly ShardId Shard = new(7);
    private static readonly ReplicaId A = new(11), B = new(22);

    internal static EntryId Id(ulong term, ulong index) => new(new Term(term), new LogIndex(index));

    internal static Entry Command(ulong term, ulong index, string text) =>
        new(Id(term, index), EntryKind.Command, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Core message -> envelope -> bytes -> envelope -> core message, as it travels between two nodes.</summary>
    internal static RaftMessage OverTheWire(ShardId shard, RaftMessage message)
    {
        byte[] bytes = RaftWire.ToWire(shard, message).ToByteArray();
        Proto.RaftEnvelope received = Proto.RaftEnvelope.Parser.ParseFrom(bytes);
        received.Shard.Should().Be((uint)shard.Value);
        RaftMessage? back = RaftWire.FromWire(received, out string? reason);
        reason.Should().BeNull();
        back.Should().NotBeNull();
        return back!;
    }

    internal static void ShouldBeSameEntries(IReadOnlyList<Entry> actual, IReadOnlyList<Entry> expected)
    {
        actual.Should().HaveSameCount(expected);
        for (int i = 0; i < expected.Count; i++)
            actual[i].SameAs(expected[i]).Should().BeTrue($"entry {i} is {actual[i]}, expected {expected[i]}");
    }

    public static TheoryData<RaftMessage> MessagesWithoutEntries() => new()
    {
        new VoteRequest(A, B, new Term(5), Id(4, 17), PreVote: false),
        new VoteRequest(A, B, new Term(6), Id(0, 0), PreVote: true),
        new VoteResponse(B, A, new Term(5), PreVote: false, Granted: true),
        new VoteResponse(B, A, new Term(0), PreVote: true, Granted: false),
        new AppendResponse(B, A, new Term(5), Success: true, new LogIndex(42), default),
        new AppendResponse(B, A, new Term(5), Success: false, new LogIndex(42), Id(3, 30)),
        new HeartbeatRequest(A, B, new Term(5), new LogIndex(40), ReadRound: 9),
        new HeartbeatResponse(B, A, new Term(5), ReadRound: ulong.MaxValue),
    };

    [Theory]
    [MemberData(nameof(MessagesWithoutEntries))]
    public void Every_message_without_entries_survives_the_wire_unchanged(RaftMessage message)
    {
        OverTheWire(Shard, message).Should().Be(message);
    }

    [Fact]
    public void An_append_request_survives_the_wire_with_its_entries_byte_for_byte()
    {
        var entries = ImmutableArray.Create(
            new Entry(Id(4, 18), EntryKind.Noop, ReadOnlyMemory<byte>.Empty),
            Command(5, 19, "put a 1"),
            new Entry(Id(5, 20), EntryKind.Command, new byte[100_000]));
        var sent = new AppendRequest(A, B, new Term(5), Id(4, 17), entries, new LogIndex(16));

        var received = OverTheWire(Shard, sent).Should().BeOfType<AppendRequest>().Subject;

        (received with { Entries = sent.Entries }).Should().Be(sent);
        ShouldBeSameEntries(received.Entries, entries);
    }

    [Fact]
    public void An_empty_append_request_is_a_probe_and_survives_the_wire()
    {
        var sent = new AppendRequest(A, B, new Term(1), Id(0, 0), ImmutableArray<Entry>.Empty, default);

        var received = OverTheWire(Shard, sent).Should().BeOfType<AppendRequest>().Subject;

        received.Entries.IsDefault.Should().BeFalse();
        (received with { Entries = sent.Entries }).Should().Be(sent);
    }

    [Fact]
    public void Entries_appended_and_hard_state_survive_the_journal()
    {
        Entry[] entries = [Command(3, 5, "x"), new Entry(Id(3, 6), EntryKind.Noop, default), Command(4, 7, "y")];
        byte[] bytes = RaftWire.ToEntriesAppended(entries).ToByteArray();

        Entry[]? back = RaftWire.FromWire(Proto.EntriesAppended.Parser.ParseFrom(bytes), out string? reason);

        reason.Should().BeNull();
        ShouldBeSameEntries(back!, entries);
        var hardState = new HardState(new Term(9), new ReplicaId(3), new LogIndex(1234));
        RaftWire.FromWire(Proto.HardStateChanged.Parser.ParseFrom(RaftWire.ToWire(hardState).ToByteArray()))
            .Should().Be(hardState);
        RaftWire.FromWire(new Proto.HardStateChanged()).Should().Be(default(HardState), "a fresh replica has not voted");
    }

    [Fact]
    public void An_outbound_entry_shares_its_payload_instead_of_copying_it()
    {
        byte[] payload = [1, 2, 3];
        Proto.Entry wire = RaftWire.ToWire(new Entry(Id(1, 1), EntryKind.Command, payload));

        payload[0] = 99;   // never done in production (an entry's bytes are immutable); here it proves no copy was made

        wire.Data[0].Should().Be(99);
    }

    [Fact]
    public void The_shard_is_checked_against_the_cluster_size()
    {
        var envelope = RaftWire.ToWire(new ShardId(15), new HeartbeatResponse(B, A, new Term(1), 0));

        RaftWire.ShardOf(envelope, 16, out string? ok).Should().Be(new ShardId(15));
        ok.Should().BeNull();
        RaftWire.ShardOf(envelope, 15, out string? reason).Should().BeNull();
        reason.Should().Be("shard 15 does not exist: the cluster has 15 shards");
        envelope.Shard = uint.MaxValue;
        RaftWire.ShardOf(envelope, int.MaxValue, out _).Should().BeNull();
    }

    private static Proto.RaftEnvelope Heartbeat() =>
        RaftWire.ToWire(Shard, new HeartbeatRequest(A, B, new Term(5), new LogIndex(3), 1));

    private static Proto.RaftEnvelope Append(params Proto.Entry[] entries)
    {
        var envelope = RaftWire.ToWire(Shard, new AppendRequest(A, B, new Term(5), Id(4, 10), [], new LogIndex(3)));
        envelope.AppendRequest.Entries.Add(entries);
        return envelope;
    }

    private static Proto.Entry WireEntry(ulong term, ulong index, Proto.EntryKind kind = Proto.EntryKind.Command) =>
        new() { Term = term, Index = index, Kind = kind, Data = ByteString.CopyFromUtf8("v") };

    public static TheoryData<string, Proto.RaftEnvelope, string> MalformedEnvelopes()
    {
        var data = new TheoryData<string, Proto.RaftEnvelope, string>();
        void Add(string name, Action<Proto.RaftEnvelope> spoil, string reason, Proto.RaftEnvelope? envelope = null)
        {
            envelope ??= Heartbeat();
            spoil(envelope);
            data.Add(name, envelope, reason);
        }
        Add("no message", e => e.ClearMessage(), "the envelope carries no message (unknown to this version, or empty)");
        Add("from nobody", e => e.From = 0, "HeartbeatRequest from replica 0");
        Add("to nobody", e => e.To = 0, "HeartbeatRequest to replica 0");
        Add("to itself", e => e.To = e.From, "HeartbeatRequest from replica 11 to itself");
        Add("request at term 0", e => e.Term = 0, "HeartbeatRequest at term 0: a request always carries a term");
        Add("candidate's log from a later term", e => e.VoteRequest = new Proto.VoteRequest { LastLogTerm = 6, LastLogIndex = 3 },
            "VoteRequest at term 5 with a last entry 6/3 of a later term");
        Add("prev entry of a later term", e => e.AppendRequest.PrevLogTerm = 6,
            "AppendRequest at term 5 after entry 6/10 of a later term", Append());
        Add("unknown entry kind", _ => { }, "AppendRequest entry 1 of 1: entry 5/11 is of unknown kind 9",
            Append(WireEntry(5, 11, (Proto.EntryKind)9)));
        Add("entry at term 0", _ => { }, "AppendRequest entry 2 of 2: entry 0/12 has term 0", Append(WireEntry(5, 11), WireEntry(0, 12)));
        Add("gap", _ => { }, "AppendRequest after 4/10, entry 2 of 2: entry 5/13 is not at the next index 12",
            Append(WireEntry(5, 11), WireEntry(5, 13)));
        Add("not right after prev", _ => { }, "AppendRequest after 4/10, entry 1 of 1: entry 5/10 is not at the next index 11",
            Append(WireEntry(5, 10)));
        Add("terms decrease", _ => { }, "AppendRequest after 4/10, entry 2 of 2: entry 4/12 has an earlier term than the entry before it (5)",
            Append(WireEntry(5, 11), WireEntry(4, 12)));
        Add("entry term before prev term", _ => { }, "AppendRequest after 4/10, entry 1 of 1: entry 3/11 has an earlier term than the entry before it (4)",
            Append(WireEntry(3, 11)));
        Add("entry of a later term", _ => { }, "AppendRequest at term 5 carries entry 6/11 of a later term", Append(WireEntry(6, 11)));
        Add("index overflow", e => e.AppendRequest.PrevLogIndex = ulong.MaxValue,
            "AppendRequest of 1 entries after index 18446744073709551615 overflows the log", Append(WireEntry(5, 1)));
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedEnvelopes))]
    public void A_malformed_envelope_is_refused_with_a_reason_and_no_exception(string name, Proto.RaftEnvelope envelope, string expected)
    {
        // Through bytes, as it would arrive.
        var received = Proto.RaftEnvelope.Parser.ParseFrom(envelope.ToByteArray());

        RaftMessage? message = RaftWire.FromWire(received, out string? reason);

        message.Should().BeNull(name);
        reason.Should().Be(expected);
    }

    [Fact]
    public void A_journal_event_with_a_gap_or_no_entries_is_refused()
    {
        var gap = new Proto.EntriesAppended { Entries = { WireEntry(2, 5), WireEntry(2, 7) } };
        RaftWire.FromWire(gap, out string? reason).Should().BeNull();
        reason.Should().Be("EntriesAppended entry 2 of 2: entry 2/7 is not at the next index 6");

        RaftWire.FromWire(new Proto.EntriesAppended(), out reason).Should().BeNull();
        reason.Should().Be("EntriesAppended holds no entries");
    }

    [Fact]
    public void Random_envelopes_never_make_the_conversion_throw()
    {
        var random = new Random(20_261_125);
        byte[] valid = Append(WireEntry(5, 11), WireEntry(5, 12)).ToByteArray();
        int parsed = 0;
        for (int i = 0; i < 10_000; i++)
        {
            byte[] bytes = (byte[])valid.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            Proto.RaftEnvelope envelope;
            try { envelope = Proto.RaftEnvelope.Parser.ParseFrom(bytes); }
            catch (InvalidProtocolBufferException) { continue; }
            parsed++;
            RaftMessage? message = RaftWire.FromWire(envelope, out string? reason);
            (message is null).Should().Be(reason is not null, "exactly one of message and reason comes back");
        }
        parsed.Should().BeGreaterThan(1_000, "most mutations still parse, so the validation is what is exercised");
    }
}
